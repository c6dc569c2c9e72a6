"""Reliability and operations: structured logs with request ids, security headers, request
deadlines, Prometheus metrics, rate limits (in memory or shared in PostgreSQL) and database
faults answered 503. ``server.ops.plugin.OpsPlugin`` wires them into an app.

Nothing is imported here: ``scimlab serve`` imports ``server.ops.serving`` before granian
forks its workers, and that must not load prometheus-client yet.
"""
