"""The operations stage of ``scimlab bench``: every target serves at once, and each operation
runs in rounds that take turns between them.

A shared machine's speed drifts, so a target measured minutes after another may as well
have run on another machine. Here each operation's budget (requests and seconds) is split over
``rounds``; in every round each target takes its turn, the order rotating from round to
round, so every pair of targets is measured side by side. A target's figures pool its
rounds; a ratio between two targets is the median of their per-round ratios.
"""

from __future__ import annotations

import contextlib
import math
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from loadtests.bench.load import LoadResult, drive, errors_text, pooled_figures, say
from loadtests.bench.servers import UNLIMITED, free_port, granian_command, scimlab_command, serve
from loadtests.bench.targets import (
    OPERATIONS,
    Target,
    fresh_database,
    prepare_scimlab,
    request_maker,
    seed_over_http,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from loadtests.bench.config import BenchConfig
    from loadtests.bench.servers import RunningServer

__all__ = ["BASELINES", "operations_stage", "pool_rounds", "ratio_of_rounds", "turn_order"]

T = TypeVar("T")
BARE, PEER = "bare-litestar", "scim2-server"
BASELINES = {"vs_bare": BARE, "vs_scim2_server": PEER}


@dataclass
class _Served:
    target: Target
    port: int
    running: RunningServer
    rounds: dict[str, list[LoadResult]] = field(default_factory=dict)
    # The server's CPU seconds (all its processes) in each round of an operation.
    cpu: dict[str, list[float]] = field(default_factory=dict)


def turn_order(names: Sequence[T], round_index: int) -> list[T]:
    """Round ``r`` starts with the ``r``-th target, so no target always goes first (warm
    caches) or last (a machine slowing down)."""
    shift = round_index % len(names)
    return [*names[shift:], *names[:shift]]


def ratio_of_rounds(ours: Sequence[float], theirs: Sequence[float]) -> float:
    """The median of the per-round ratios of two targets' rates."""
    return statistics.median(a / max(b, 0.1) for a, b in zip(ours, theirs, strict=True))


def pool_rounds(results: Sequence[LoadResult], cpu_s: Sequence[float]) -> dict[str, Any]:
    elapsed = sum(result.elapsed_s for result in results)
    figures = pooled_figures(results)
    answered = sum(result.count for result in results)
    return {
        "rps": round(figures["requests"] / elapsed, 1) if elapsed else 0.0,
        **figures,
        "rounds_rps": [round(result.rate, 1) for result in results],
        # What one request cost the server (granian's threads included), so a ratio can be
        # told apart from a load generator that took the machine's other core.
        "server_cpu_us": round(1e6 * sum(cpu_s) / answered, 1) if answered else 0.0,
    }


async def _start_all(config: BenchConfig, stack: contextlib.AsyncExitStack) -> list[_Served]:
    served = []
    port = free_port()
    command = granian_command("loadtests.bench.peers:bare_app", port)
    running = stack.enter_context(
        serve(BARE, command, port=port, probe="/healthz", base_path="", env={})
    )
    served.append(_Served(Target(BARE, "", {}), port, running))

    port = free_port()
    command = granian_command("loadtests.bench.peers:scim2_server_app", port)
    probe = "/v2/ServiceProviderConfig"
    running = stack.enter_context(
        serve(PEER, command, port=port, probe=probe, base_path="/v2", env={})
    )
    peer = Target(PEER, "/v2", {})
    await seed_over_http(peer, port, config.users)
    served.append(_Served(peer, port, running))

    for backend in config.backends:
        url = await stack.enter_async_context(fresh_database(backend, config.postgres_url))
        target = await prepare_scimlab(url, config.users, f"scimlab-{backend}")
        port = free_port()
        env = {
            "SCIMLAB_DATABASE_URL": url,
            "SCIMLAB_PUBLIC_URL": f"http://127.0.0.1:{port}",
            **UNLIMITED,
        }
        command = scimlab_command(port)
        running = stack.enter_context(
            serve(target.name, command, port=port, probe="/healthz", base_path="", env=env)
        )
        served.append(_Served(target, port, running))
    return served


async def _run_operation(operation: str, served: list[_Served], config: BenchConfig) -> None:
    per_round = math.ceil(config.requests / config.rounds)
    by_name = {s.target.name: s for s in served}
    for round_index in range(config.rounds):
        for name in turn_order(list(by_name), round_index):
            s = by_name[name]
            make = request_maker(s.target, operation, host=f"127.0.0.1:{s.port}")
            cpu_before = s.running.cpu_seconds
            result = await drive(
                "127.0.0.1",
                s.port,
                make,
                connections=config.connections,
                total=per_round,
                duration_s=config.seconds / config.rounds,
            )
            s.rounds.setdefault(operation, []).append(result)
            s.cpu.setdefault(operation, []).append(s.running.cpu_seconds - cpu_before)


def _ratios(figures: dict[str, Any]) -> dict[str, Any]:
    ratios: dict[str, Any] = {}
    for name in (k for k in figures if k.startswith("scimlab-")):
        for operation in OPERATIONS:
            ours = figures[name][operation]["rounds_rps"]
            row = {
                key: round(ratio_of_rounds(ours, figures[base][operation]["rounds_rps"]), 3)
                for key, base in BASELINES.items()
            }
            ratios.setdefault(name, {})[operation] = row
    return ratios


async def operations_stage(config: BenchConfig) -> dict[str, Any]:
    """Every target's figures per operation (``results[name][operation]``) and ``ratios``."""
    say(
        f"operations: {config.users} users seeded, {config.connections} connections, "
        f"up to {config.requests} requests or {config.seconds} s per target and operation, "
        f"in {config.rounds} alternating rounds"
    )
    figures: dict[str, Any] = {}
    async with contextlib.AsyncExitStack() as stack:
        served = await _start_all(config, stack)
        for operation in OPERATIONS:
            await _run_operation(operation, served, config)
            for s in served:
                row = figures.setdefault(s.target.name, {})[operation] = pool_rounds(
                    s.rounds[operation], s.cpu[operation]
                )
                say(
                    f"  {s.target.name:18} {operation:7} {row['rps']:>9} req/s"
                    f"  p50 {row['p50_ms']:>7} ms  p95 {row['p95_ms']:>7} ms"
                    f"  p99 {row['p99_ms']:>7} ms  errors {errors_text(row)}"
                    f"  server CPU {row['server_cpu_us']} us/request"
                    f"  rounds {row['rounds_rps']}"
                )
        for s in served:
            if s.target.name.startswith("scimlab-"):
                figures[s.target.name]["peak_rss_mb"] = round(s.running.peak_rss_mb, 1)
    ratios = _ratios(figures)
    for name, rows in ratios.items():
        for operation, row in rows.items():
            say(
                f"  {name:18} {operation:7} x{row['vs_bare']} of bare Litestar,"
                f" x{row['vs_scim2_server']} of scim2-server (median of rounds)"
            )
    return {**figures, "ratios": ratios}
