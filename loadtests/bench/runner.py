"""``scimlab bench``: one run, three kinds of server, the same bounded load.

Per operation it prints req/s, p50/p95/p99 and errors for scimlab on SQLite and on PostgreSQL,
a bare Litestar endpoint and scim2-server (all under granian, one worker), and the ratios to
both baselines; then ``filter=userName eq`` latency and the server's peak memory as the
practice grows; an Entra initial sync; and a fleet of practices each held at a fixed rate at
once under the default rate limits (``fleet_rate``); and a walk of a large practice by
cursor and by startIndex (``cursor_walk``). Results go to a JSON file and a Markdown
table (BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from loadtests.bench.cursor_walk import WalkSize, cursor_walk_bench, cursor_walk_lines
from loadtests.bench.fleet_rate import fleet_lines, fleet_rate
from loadtests.bench.initial_sync import entra_initial_sync
from loadtests.bench.load import errors_text, say
from loadtests.bench.operations import operations_stage
from loadtests.bench.scale import scale_stage
from loadtests.bench.targets import OPERATIONS

if TYPE_CHECKING:
    from pathlib import Path

    from loadtests.bench.config import BenchConfig

__all__ = ["run_bench"]


def utc_stamp(moment: datetime | None = None) -> str:
    """ISO 8601 in UTC with ``Z``, as every JSON output of scimlab writes dates."""
    moment = datetime.now(UTC) if moment is None else moment
    return moment.astimezone(UTC).isoformat(timespec="seconds").removesuffix("+00:00") + "Z"


async def run_bench(config: BenchConfig) -> dict[str, Any]:
    results: dict[str, Any] = {"date": utc_stamp()}
    results |= await operations_stage(config)
    results["rounds"] = config.rounds
    results["scale"] = await scale_stage(config)
    say(f"Entra initial sync of {config.sync_users} users through the simulator:")
    results["entra_sync"] = await entra_initial_sync(
        config.sync_users, config.backends[0], config.postgres_url
    )
    results["fleet"] = await _fleet(config)
    results["cursor_walk"] = await _cursor_walks(config)
    return results


async def _cursor_walks(config: BenchConfig) -> dict[str, Any]:
    if config.cursor_users <= 0:
        return {}
    size = WalkSize(users=config.cursor_users, page=config.cursor_page)
    return {b: await cursor_walk_bench(b, config.postgres_url, size) for b in config.backends}


async def _fleet(config: BenchConfig) -> dict[str, Any]:
    load = config.fleet
    if load.practices <= 0:
        return {}
    say(
        f"fleet: {load.practices} practices at {load.rate} req/s each for {load.seconds} s,"
        " default rate limits:"
    )
    return {b: await fleet_rate(b, config.postgres_url, load) for b in config.backends}


def write_reports(
    results: dict[str, Any], json_path: Path, markdown_path: Path, command: str
) -> None:
    json_path.write_text(json.dumps(results, indent=2))
    lines = [
        "# Benchmarks",
        "",
        f"Measured {results['date']} with `{command}` (granian, one worker each;",
        "lean asyncio load generator on the same machine; absolute numbers drift between",
        "machines, ratios in one run do not). Every target serves at once; each operation",
        f"runs in {results['rounds']} rounds that take turns between the targets, and a ratio",
        "is the median of the per-round ratios.",
        "",
        "| target | operation | req/s | p50 ms | p95 ms | p99 ms | errors | server CPU µs/req "
        "| req/s by round |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in (
        "bare-litestar",
        "scim2-server",
        *(k for k in results if k.startswith("scimlab-")),
    ):
        for operation in OPERATIONS:
            row = results[name][operation]
            cells = [name, operation, row["rps"], row["p50_ms"], row["p95_ms"], row["p99_ms"]]
            rounds = ", ".join(str(rate) for rate in row["rounds_rps"])
            cells += [errors_text(row), row["server_cpu_us"], rounds]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += [
        "",
        "| scimlab on | operation | x bare Litestar | x scim2-server |",
        "|---|---|---|---|",
    ]
    for backend, rows in results["ratios"].items():
        for operation, row in rows.items():
            lines.append(
                f"| {backend} | {operation} | {row['vs_bare']} | {row['vs_scim2_server']} |"
            )
    lines += [
        "",
        "Each practice size is served at once and the lookups alternate between the sizes in",
        "rounds; p99 / smallest is the median of the per-round ratios.",
        "",
        "| database | users | filter p50 ms | p99 ms | p99 / smallest | p99 ms by round"
        " | peak RSS MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, rows in results["scale"].items():
        for size, row in rows.items():
            cells = [backend, size, row["p50_ms"], row["p99_ms"], row["p99_ratio_to_smallest"]]
            cells += [", ".join(str(p99) for p99 in row["rounds_p99_ms"]), row["peak_rss_mb"]]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    sync = results["entra_sync"]
    lines += [
        "",
        f"Entra initial sync of {sync['users']} users through the simulator ({sync['backend']}): "
        f"{sync['wall_s']} s, {'all expectations held' if sync['passed'] else 'FAILED'}; "
        f"server RSS {sync['rss_first_quarter_mb']} MiB in the first quarter, "
        f"{sync['rss_last_quarter_mb']} MiB in the last (peak {sync['peak_rss_mb']} MiB).",
        *fleet_lines(results.get("fleet", {})),
        *cursor_walk_lines(results.get("cursor_walk", {})),
    ]
    markdown_path.write_text("\n".join(lines) + "\n")


def main(config: BenchConfig, json_path: Path, markdown_path: Path, command: str) -> int:
    results = asyncio.run(run_bench(config))
    write_reports(results, json_path, markdown_path, command)
    say(f"wrote {json_path} and {markdown_path}")
    errors = sum(
        results[k][op]["errors"] for k in results if k.startswith("scimlab-") for op in OPERATIONS
    ) + sum(row["errors"] for row in results.get("fleet", {}).values())
    return 1 if errors else 0
