"""The fleet stage of ``scimlab bench``: many practices at once, each held at a fixed rate.

The target (issue 7): 50 practices at once, each held at Entra's floor of 25 requests a second,
with no errors. This stage seeds the practices on a fresh database, starts ``scimlab serve``
(one worker) with the server's *default* rate limits, since the point is that production
settings sustain the rate, and drives every practice open-loop at the rate with Entra-shaped
traffic (``fleet_traffic``) through the paced generator (``paced``), each with its own OAuth
token.

A practice's achieved rate is its successful answers over the scheduled window, or over the
time to its last answer if the server ran past the window. The fleet *held* when every
practice achieved at least 98% of the rate and nothing failed (429s included). Late sends
and the generator's CPU say whether the generator, not the server, fell behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loadtests.bench.fleet_traffic import connect, entra_traffic
from loadtests.bench.paced import PacedResult, pace
from loadtests.bench.servers import children, free_port, scimlab_command, serve
from loadtests.bench.targets import fresh_database
from loadtests.fleet import seed_fleet
from loadtests.stats import percentile
from server.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ["FleetLoad", "fleet_lines", "fleet_rate"]

HELD_FRACTION = 0.98


@dataclass(frozen=True)
class FleetLoad:
    practices: int = 50
    rate: float = 25.0  # requests per second per practice (Entra's floor)
    seconds: float = 20.0
    users: int = 100  # seeded per practice
    max_in_flight: int = 16  # per practice; past it sends queue (and count as queued)
    drain_s: float = 10.0  # after the schedule, for the last answers


def default_limits() -> dict[str, str]:
    """The server's default rate limits, spelled out so an inherited environment (a
    ``SCIMLAB_RATE_LIMIT_STORE=off`` left from a benchmark) cannot turn them off."""
    defaults = Settings()
    return {
        "SCIMLAB_RATE_LIMIT_STORE": defaults.rate_limit_store,
        "SCIMLAB_SCIM_RATE_LIMIT": str(defaults.scim_rate_limit),
        "SCIMLAB_SCIM_RATE_BURST": str(defaults.scim_rate_burst),
        "SCIMLAB_TOKEN_RATE_LIMIT": str(defaults.token_rate_limit),
        "SCIMLAB_TOKEN_RATE_BURST": str(defaults.token_rate_burst),
    }


def _reap(pids: Iterable[int]) -> None:
    """Kill workers that outlived their server: granian's worker drains a backlog of
    abandoned requests for a long time after SIGTERM, and when the main process is killed
    it is orphaned and keeps a core busy under the next stage's measurement."""
    for pid in pids:
        with contextlib.suppress(OSError):
            if b"scimlab" in Path(f"/proc/{pid}/cmdline").read_bytes():  # not a reused pid
                os.kill(pid, signal.SIGKILL)


def _summary(
    load: FleetLoad, runs: Sequence[tuple[float, PacedResult]], wall: float
) -> dict[str, Any]:
    window = round(load.rate * load.seconds) / load.rate  # the scheduled sends' span
    achieved = [r.ok / max(window, r.last_answer - start) for start, r in runs]
    latencies = [ms for _, r in runs for values in r.latencies_ms.values() for ms in values]
    labels = sorted({label for _, r in runs for label in r.latencies_ms})
    unexpected: dict[str, int] = {}
    for _, r in runs:
        for what, n in r.unexpected.items():
            unexpected[what] = unexpected.get(what, 0) + n
    errors = sum(r.errors for _, r in runs)
    row: dict[str, Any] = {
        "practices": load.practices,
        "rate_per_practice": load.rate,
        "seconds": load.seconds,
        "users_per_practice": load.users,
        "max_in_flight": load.max_in_flight,
        "drain_s": load.drain_s,
        "offered_rps": round(load.rate * load.practices, 1),
        "achieved_rps": round(sum(achieved), 1),
        "achieved_min": round(min(achieved), 2),
        "achieved_median": round(statistics.median(achieved), 2),
        "scheduled": sum(r.scheduled for _, r in runs),
        "sent": sum(r.sent for _, r in runs),
        "ok": sum(r.ok for _, r in runs),
        "p50_ms": round(percentile(latencies, 0.5), 2) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95), 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 2) if latencies else None,
        "p99_ms_by_request": {
            label: round(
                percentile([ms for _, r in runs for ms in r.latencies_ms.get(label, [])], 0.99), 2
            )
            for label in labels
        },
        "errors": errors,
        "throttled_429": sum(r.throttled for _, r in runs),
        "unsent": sum(r.scheduled - r.sent for _, r in runs),
        "unanswered": sum(r.unanswered for _, r in runs),
        "unexpected": dict(sorted(unexpected.items())),
        "late_sends": sum(r.late for _, r in runs),
        "max_lag_ms": round(max(r.max_lag_ms for _, r in runs), 1),
        "queued_sends": sum(r.queued for _, r in runs),
        "wall_s": round(wall, 1),
    }
    row["held"] = min(achieved) >= HELD_FRACTION * load.rate and errors == 0
    return row


async def fleet_rate(backend: str, postgres_url: str, load: FleetLoad) -> dict[str, Any]:
    """Seed, serve with default limits, drive every practice at ``load.rate``; the figures."""
    async with fresh_database(backend, postgres_url) as url:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        fleet = await seed_fleet(
            Settings(database_url=url, public_url=base), load.practices, load.users
        )
        env = {"SCIMLAB_DATABASE_URL": url, "SCIMLAB_PUBLIC_URL": base, **default_limits()}
        with serve(
            f"fleet-{backend}",
            scimlab_command(port),
            port=port,
            probe="/healthz",
            base_path="",
            env=env,
        ) as running:
            practices = await asyncio.gather(
                *(connect(n, p, load.users) for n, p in enumerate(fleet))
            )
            host = f"127.0.0.1:{port}"
            count = round(load.rate * load.seconds)
            # Practices are spread over one send interval, not all due at the same instant.
            begin = time.perf_counter() + 0.5
            starts = [begin + n / (load.rate * load.practices) for n in range(load.practices)]
            cpu_server, cpu_self = running.cpu_seconds, time.process_time()
            runs = await asyncio.gather(
                *(
                    pace(
                        "127.0.0.1",
                        port,
                        entra_traffic(practice, host),
                        rate=load.rate,
                        count=count,
                        start=start,
                        max_in_flight=load.max_in_flight,
                        drain_s=load.drain_s,
                    )
                    for practice, start in zip(practices, starts, strict=True)
                )
            )
            wall = time.perf_counter() - begin
            server_cpu = running.cpu_seconds - cpu_server
            generator_cpu = time.process_time() - cpu_self
            peak = running.peak_rss_mb
            workers = children(running.process.pid)
        _reap(workers)
    row = {"backend": backend, **_summary(load, list(zip(starts, runs, strict=True)), wall)}
    row["server_cpu_pct"] = round(100 * server_cpu / wall, 1)
    row["generator_cpu_pct"] = round(100 * generator_cpu / wall, 1)
    row["peak_rss_mb"] = round(peak, 1)
    row["rate_limits"] = default_limits()
    _say(row)
    return row


def _say(row: dict[str, Any]) -> None:
    sys.stdout.write(
        f"  {row['backend']:10} {row['practices']} practices x {row['rate_per_practice']} req/s"
        f" for {row['seconds']} s: offered {row['offered_rps']} req/s, achieved"
        f" {row['achieved_rps']} (per practice min {row['achieved_min']}, median"
        f" {row['achieved_median']}), p50 {row['p50_ms']} ms p95 {row['p95_ms']} ms"
        f" p99 {row['p99_ms']} ms, errors {row['errors']} (429: {row['throttled_429']}),"
        f" unsent {row['unsent']}, unanswered {row['unanswered']}, late sends"
        f" {row['late_sends']}, queued {row['queued_sends']}:"
        f" {'held' if row['held'] else 'NOT held'}\n"
    )
    sys.stdout.flush()


def fleet_lines(fleet: dict[str, dict[str, Any]]) -> list[str]:
    """The BENCHMARKS.md section for the fleet stage (nothing when it did not run)."""
    if not fleet:
        return []
    first = next(iter(fleet.values()))
    limits = first["rate_limits"]
    lines = [
        "",
        f"Fleet: {first['practices']} practices at once, each sending"
        f" {first['rate_per_practice']} req/s open-loop for {first['seconds']} s (issue 7: 50 at"
        " Entra's 25 req/s floor), Entra-shaped (token from the token endpoint, lookups,"
        " creates, read-before-update, PATCH attributes"
        f" and active) against {first['users_per_practice']} seeded users each, under the"
        f" server's default rate limits ({limits['SCIMLAB_SCIM_RATE_LIMIT']} req/s, burst"
        f" {limits['SCIMLAB_SCIM_RATE_BURST']} per practice, store"
        f" `{limits['SCIMLAB_RATE_LIMIT_STORE']}`). Held: every practice achieved"
        f" >= {HELD_FRACTION:.0%} of its rate with no errors (429s count). Late sends are the"
        " generator's own lag; queued sends waited for one of a practice's"
        f" {first['max_in_flight']} requests in flight to be answered (the server's lag); sends"
        f" still waiting {first['drain_s']} s after the schedule ended were not sent, requests"
        " still open then are unanswered.",
        "",
        "| database | offered req/s | achieved req/s | per practice min / median | p50 ms"
        " | p95 ms | p99 ms | errors (429) | late sends | queued | not sent / unanswered"
        " | scimlab CPU % | held |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for backend, row in fleet.items():
        cells = [
            backend,
            row["offered_rps"],
            row["achieved_rps"],
            f"{row['achieved_min']} / {row['achieved_median']}",
            row["p50_ms"],
            row["p95_ms"],
            row["p99_ms"],
            f"{row['errors']} ({row['throttled_429']})",
            row["late_sends"],
            row["queued_sends"],
            f"{row['unsent']} / {row['unanswered']}",
            row["server_cpu_pct"],
            "yes" if row["held"] else "no",
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines.append("")
    for backend, row in fleet.items():
        slowest = ", ".join(f"{k} {v}" for k, v in row["p99_ms_by_request"].items())
        lines.append(f"p99 ms by request on {backend}: {slowest}.")
    return lines
