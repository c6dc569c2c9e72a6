"""``scimlab bench``: the benchmark runner's command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from loadtests.bench.fleet_rate import FleetLoad
from loadtests.bench.runner import BenchConfig, main

__all__ = ["bench"]


@click.command()
@click.option(
    "--users", default=BenchConfig.users, show_default=True, help="Users seeded per target."
)
@click.option(
    "--connections",
    default=BenchConfig.connections,
    show_default=True,
    help="Concurrent connections.",
)
@click.option(
    "--requests", default=BenchConfig.requests, show_default=True, help="Requests per operation."
)
@click.option(
    "--seconds", default=BenchConfig.seconds, show_default=True, help="Time cap per operation."
)
@click.option(
    "--sizes",
    default=",".join(str(size) for size in BenchConfig.sizes),
    show_default=True,
    help="Practice sizes for the filter-latency and memory figures.",
)
@click.option(
    "--size-requests",
    default=BenchConfig.size_requests,
    show_default=True,
    help="Lookups per size.",
)
@click.option(
    "--sync-users",
    default=BenchConfig.sync_users,
    show_default=True,
    help="Users in the Entra initial sync.",
)
@click.option(
    "--backend",
    "backends",
    multiple=True,
    default=BenchConfig.backends,
    show_default=True,
    help="Databases to run scimlab on.",
)
@click.option(
    "--postgres-url",
    default=BenchConfig.postgres_url,
    show_default=True,
    help="Server where throwaway databases are created.",
)
@click.option(
    "--fleet-practices",
    type=click.IntRange(min=0),
    default=FleetLoad.practices,
    show_default=True,
    help="Practices driven at once at --fleet-rate each (0: no fleet stage).",
)
@click.option(
    "--fleet-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=FleetLoad.rate,
    show_default=True,
    help="Requests per second per practice in the fleet stage (open loop).",
)
@click.option(
    "--fleet-seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=FleetLoad.seconds,
    show_default=True,
    help="Fleet stage length.",
)
@click.option("--json", "json_path", default="bench-results.json", show_default=True)
@click.option("--markdown", "markdown_path", default="BENCHMARKS.md", show_default=True)
def bench(
    *,
    users: int,
    connections: int,
    requests: int,
    seconds: float,
    sizes: str,
    size_requests: int,
    sync_users: int,
    backends: tuple[str, ...],
    postgres_url: str,
    fleet_practices: int,
    fleet_rate: float,
    fleet_seconds: float,
    json_path: str,
    markdown_path: str,
) -> None:
    """Benchmark scimlab (SQLite, PostgreSQL) against a bare Litestar endpoint and
    scim2-server, all under granian with one worker, on loopback; then a fleet of practices
    each held at a fixed rate at once, under the default rate limits."""
    config = BenchConfig(
        users=users,
        connections=connections,
        requests=requests,
        seconds=seconds,
        sizes=tuple(int(s) for s in sizes.split(",") if s.strip()),
        size_requests=size_requests,
        sync_users=sync_users,
        backends=backends,
        postgres_url=postgres_url,
        fleet=FleetLoad(practices=fleet_practices, rate=fleet_rate, seconds=fleet_seconds),
    )
    command = "scimlab bench " + " ".join(sys.argv[2:])
    raise SystemExit(main(config, Path(json_path), Path(markdown_path), command.strip()))
