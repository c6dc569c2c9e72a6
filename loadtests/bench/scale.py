"""The practice-size stage of ``scimlab bench``: ``filter=userName eq`` latency and the
server's peak memory as a practice grows, on each database.

Every size of one database is served at once (a server and a database of its own each), and the
lookups run in rounds that take turns between the sizes (``operations.turn_order``). A stall of
the machine then falls on one round of one size, not on all of a size's lookups (otherwise one
stall can make a size's p99 look several times worse than it is). The p99 ratio to the smallest
size is the median of the per-round ratios; the figures pool the rounds.
"""

from __future__ import annotations

import contextlib
import math
import statistics
from typing import TYPE_CHECKING, Any

from loadtests.bench.load import LoadResult, drive, pooled_figures, say
from loadtests.bench.operations import turn_order
from loadtests.bench.servers import UNLIMITED, free_port, scimlab_command, serve
from loadtests.bench.targets import fresh_database, prepare_scimlab, request_maker
from loadtests.stats import percentile

if TYPE_CHECKING:
    from collections.abc import Sequence

    from loadtests.bench.config import BenchConfig
    from loadtests.bench.servers import RunningServer
    from loadtests.bench.targets import Target

__all__ = ["scale_stage", "size_row"]

LOOKUP_CONNECTIONS = 10


def size_row(rounds: Sequence[LoadResult], smallest: Sequence[LoadResult]) -> dict[str, Any]:
    """One size's figures over its rounds, and its p99 against the smallest size's, round by
    round (the median of the per-round ratios)."""
    p99s = [percentile(result.latencies_ms, 0.99) for result in rounds]
    smallest_p99s = [percentile(result.latencies_ms, 0.99) for result in smallest]
    ratios = [ours / theirs for ours, theirs in zip(p99s, smallest_p99s, strict=True) if theirs]
    return {
        **pooled_figures(rounds),
        "rounds_p99_ms": [round(p99, 2) for p99 in p99s],
        "p99_ratio_to_smallest": round(statistics.median(ratios), 2) if ratios else None,
    }


async def _sizes(backend: str, config: BenchConfig) -> dict[str, Any]:
    served: dict[int, tuple[Target, int, RunningServer]] = {}
    rounds: dict[int, list[LoadResult]] = {size: [] for size in config.sizes}
    async with contextlib.AsyncExitStack() as stack:
        for size in config.sizes:
            url = await stack.enter_async_context(fresh_database(backend, config.postgres_url))
            target = await prepare_scimlab(url, size, f"scale-{backend}-{size}")
            port = free_port()
            env = {"SCIMLAB_DATABASE_URL": url, **UNLIMITED}
            command = scimlab_command(port)
            running = stack.enter_context(
                serve(target.name, command, port=port, probe="/healthz", base_path="", env=env)
            )
            served[size] = (target, port, running)
        per_round = math.ceil(config.size_requests / config.rounds)
        for round_index in range(config.rounds):
            for size in turn_order(config.sizes, round_index):
                target, port, _ = served[size]
                make = request_maker(target, "filter", host=f"127.0.0.1:{port}")
                rounds[size].append(
                    await drive(
                        "127.0.0.1",
                        port,
                        make,
                        connections=LOOKUP_CONNECTIONS,
                        total=per_round,
                        duration_s=60,
                    )
                )
        peaks = {size: round(running.peak_rss_mb, 1) for size, (_, _, running) in served.items()}
    rows = {}
    for size in config.sizes:
        row = rows[str(size)] = size_row(rounds[size], rounds[config.sizes[0]])
        row["peak_rss_mb"] = peaks[size]
        say(
            f"  {backend:10} users={size:>9}  filter p50 {row['p50_ms']:>7} ms"
            f"  p99 {row['p99_ms']:>7} ms  p99/smallest {row['p99_ratio_to_smallest']}"
            f" (rounds {row['rounds_p99_ms']})  peak RSS {row['peak_rss_mb']} MiB"
            f"  errors {row['errors']}"
        )
    return rows


async def scale_stage(config: BenchConfig) -> dict[str, Any]:
    """``results[backend][str(size)]``: the lookup figures and peak memory at each size."""
    say(
        f"filter=userName eq by practice size ({config.size_requests} lookups per size at "
        f"{LOOKUP_CONNECTIONS} connections, in {config.rounds} alternating rounds):"
    )
    return {backend: await _sizes(backend, config) for backend in config.backends}
