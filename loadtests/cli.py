"""``scimlab bench``: the benchmark runner's command line."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from loadtests.bench.config import BenchConfig
from loadtests.bench.fleet_rate import FleetLoad
from loadtests.bench.runner import main

__all__ = ["bench"]

#: Every option shows its default, which is the benchmark's own (BenchConfig, FleetLoad).
_option = functools.partial(click.option, show_default=True)


@click.command()
@_option("--users", default=BenchConfig.users, help="Users seeded per target.")
@_option("--connections", default=BenchConfig.connections, help="Concurrent connections.")
@_option("--requests", default=BenchConfig.requests, help="Requests per operation.")
@_option("--seconds", default=BenchConfig.seconds, help="Time cap per operation.")
@_option(
    "--rounds",
    type=click.IntRange(min=1),
    default=BenchConfig.rounds,
    help="Turns the targets take, alternating, within each operation's budget.",
)
@_option(
    "--sizes",
    default=",".join(str(size) for size in BenchConfig.sizes),
    help="Practice sizes for the filter-latency and memory figures.",
)
@_option("--size-requests", default=BenchConfig.size_requests, help="Lookups per size.")
@_option("--sync-users", default=BenchConfig.sync_users, help="Users in the Entra initial sync.")
@_option(
    "--backend",
    "backends",
    multiple=True,
    default=BenchConfig.backends,
    help="Databases to run scimlab on.",
)
@_option(
    "--postgres-url",
    default=BenchConfig.postgres_url,
    help="Server where throwaway databases are created.",
)
@_option(
    "--fleet-practices",
    type=click.IntRange(min=0),
    default=FleetLoad.practices,
    help="Practices driven at once at --fleet-rate each (0: no fleet stage).",
)
@_option(
    "--fleet-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=FleetLoad.rate,
    help="Requests per second per practice in the fleet stage (open loop).",
)
@_option(
    "--fleet-seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=FleetLoad.seconds,
    help="Fleet stage length.",
)
@_option(
    "--cursor-users",
    type=click.IntRange(min=0),
    default=BenchConfig.cursor_users,
    help="Users walked by cursor and by startIndex (0: no cursor-walk stage).",
)
@_option(
    "--cursor-page",
    type=click.IntRange(min=1),
    default=BenchConfig.cursor_page,
    help="Page size of the cursor and startIndex walks.",
)
@_option("--json", "json_path", default="bench-results.json")
@_option("--markdown", "markdown_path", default="BENCHMARKS.md")
def bench(
    *,
    users: int,
    connections: int,
    requests: int,
    seconds: float,
    rounds: int,
    sizes: str,
    size_requests: int,
    sync_users: int,
    backends: tuple[str, ...],
    postgres_url: str,
    fleet_practices: int,
    fleet_rate: float,
    fleet_seconds: float,
    cursor_users: int,
    cursor_page: int,
    json_path: str,
    markdown_path: str,
) -> None:
    """Benchmark scimlab (SQLite, PostgreSQL) against a bare Litestar endpoint and
    scim2-server, all under granian with one worker, on loopback; then a fleet of practices
    each held at a fixed rate at once, under the default rate limits; then a walk of every
    user of a large practice by cursor and by startIndex."""
    config = BenchConfig(
        users=users,
        connections=connections,
        requests=requests,
        seconds=seconds,
        rounds=rounds,
        sizes=tuple(int(s) for s in sizes.split(",") if s.strip()),
        size_requests=size_requests,
        sync_users=sync_users,
        backends=backends,
        postgres_url=postgres_url,
        cursor_users=cursor_users,
        cursor_page=cursor_page,
        fleet=FleetLoad(practices=fleet_practices, rate=fleet_rate, seconds=fleet_seconds),
    )
    command = "scimlab bench " + " ".join(sys.argv[2:])
    raise SystemExit(main(config, Path(json_path), Path(markdown_path), command.strip()))
