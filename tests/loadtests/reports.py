"""A results dict shaped like ``run_bench``'s, for the report writer's tests."""

from __future__ import annotations

from typing import Any

from loadtests.bench.targets import OPERATIONS


def bench_results(**stages: Any) -> dict[str, Any]:
    """Made-up figures for every stage but the ones given (``fleet=...``, or the operations
    stage's targets and ``ratios``)."""
    figures = {"rps": 1.0, "p50_ms": 1.0, "p95_ms": 1.0, "p99_ms": 1.0, "errors": 0}
    figures["server_cpu_us"] = 1.0
    operations = {key: {**figures, "rounds_rps": [1.0]} for key in OPERATIONS}
    sync = {"users": 1, "backend": "sqlite", "wall_s": 1.0, "passed": True}
    sync |= {"rss_first_quarter_mb": 1.0, "rss_last_quarter_mb": 1.0, "peak_rss_mb": 1.0}
    return {
        "date": "2026-01-01T00:00:00Z",
        "rounds": 1,
        "bare-litestar": operations,
        "scim2-server": operations,
        "scimlab-sqlite": operations,
        "ratios": {},
        "scale": {},
        "entra_sync": sync,
        "fleet": {},
    } | stages
