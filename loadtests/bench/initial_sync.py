"""Wall time of an Entra initial sync of N users through the simulator, against scimlab
on a fresh database, with the server's memory sampled while it runs (flat, not growing
with the number of users). The row says how many objects the simulator had in flight
(``concurrency``: Entra's default unless the caller picks one), since the wall time
depends on it, and the simulator's own CPU time (user + system of its process).

Run on its own, it compares against a baseline wall time given on the command line and can
play a second simulator, another checkout's, against a fresh server of this one in turn
(ABAB), so a change to the simulator is measured before and after under the same load::

    python -m loadtests.bench.initial_sync --users 10000 --baseline 27.9 --before ../main
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from loadtests.bench.servers import UNLIMITED, free_port, peak_rss_mb, scimlab_command, serve
from loadtests.bench.targets import fresh_database
from loadtests.fleet import seed_fleet
from server.settings import Settings
from simulators.entra.dialect import ENTRA

__all__ = ["entra_initial_sync"]

BIN = Path(sys.executable).parent


def _rss_mb(pid: int) -> float:
    """Current resident memory (VmRSS) of the server's worker processes, in MiB."""
    total = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text or status.parent.name == str(pid):
            for line in text.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
    return total


def _children_cpu() -> tuple[float, float]:
    """User and system seconds of this process's children that have been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime, usage.ru_stime


def _simulator(tree: Path | None) -> tuple[list[str], Path | None]:
    """The command that starts the simulator: this checkout's, or another checkout's code
    run by this interpreter (its working directory comes first on ``sys.path``)."""
    if tree is None:
        return [str(BIN / "scimlab")], None
    return [sys.executable, "-c", "from server.cli import main; main()"], tree


async def entra_initial_sync(
    users: int,
    backend: str,
    postgres_url: str,
    concurrency: int = ENTRA.concurrency,
    *,
    simulator_tree: Path | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    async with fresh_database(backend, postgres_url) as url:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        [practice] = await seed_fleet(Settings(database_url=url, public_url=base), 1, 0)
        env = {"SCIMLAB_DATABASE_URL": url, "SCIMLAB_PUBLIC_URL": base, **UNLIMITED}
        command = [*scimlab_command(port)[:-1], str(workers)]  # --workers N
        with serve(
            "scimlab", command, port=port, probe="/healthz", base_path="", env=env
        ) as server:
            program, cwd = _simulator(simulator_tree)
            simulate = [
                *program,
                "simulate",
                "entra",
                "--scim-url",
                practice["scim_url"],
                "--token-url",
                practice["token_url"],
                "--client-id",
                practice["client_id"],
                "--client-secret",
                practice["client_secret"],
                "--scenario",
                "onboard",
                "--users",
                str(users),
                "--concurrency",
                str(concurrency),
            ]
            samples: list[float] = []
            cpu_before = _children_cpu()
            started = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                *simulate, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd
            )
            reading = asyncio.ensure_future(process.communicate())
            while not reading.done() and time.perf_counter() - started < 3600:
                samples.append(_rss_mb(server.process.pid))
                await asyncio.wait([reading], timeout=0.5)
            if not reading.done():
                process.kill()
            output = (await reading)[0].decode(errors="replace")
            wall = time.perf_counter() - started
            cpu_after = _children_cpu()
            user, system = (a - b for a, b in zip(cpu_after, cpu_before, strict=True))
            peak = peak_rss_mb(server.process.pid)
    quarter = max(1, len(samples) // 4)
    row = {
        "backend": backend,
        "users": users,
        "concurrency": concurrency,
        "server_workers": workers,
        "wall_s": round(wall, 1),
        "simulator_cpu_s": round(user + system, 1),
        "simulator_user_s": round(user, 1),
        "passed": process.returncode == 0,
        "rss_first_quarter_mb": round(max(samples[:quarter]), 1) if samples else None,
        "rss_last_quarter_mb": round(max(samples[-quarter:]), 1) if samples else None,
        "peak_rss_mb": round(peak, 1),
    }
    if simulator_tree is not None:
        row["simulator"] = str(simulator_tree)
    if not row["passed"]:
        row["tail"] = output[-1500:]
    sys.stdout.write(f"  entra initial sync: {json.dumps(row)}\n")
    return row


def _summary(name: str, rows: list[dict[str, Any]], baseline: float | None) -> str:
    wall = statistics.median(r["wall_s"] for r in rows)
    cpu = statistics.median(r["simulator_cpu_s"] for r in rows)
    text = f"{name}: median wall {wall:.1f} s, simulator CPU {cpu:.1f} s over {len(rows)} runs"
    if baseline:
        text += f", x{wall / baseline:.3f} of the {baseline:g} s baseline"
    held = all(r["passed"] for r in rows)
    return text + ("" if held else "; SOME RUNS FAILED")


async def _main(args: argparse.Namespace) -> int:
    names = ["this checkout"] + ([str(args.before)] if args.before else [])
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for _ in range(args.runs):
        for name in reversed(names):  # the other checkout first in each pair
            tree = None if name == "this checkout" else args.before
            rows[name].append(
                await entra_initial_sync(
                    args.users,
                    args.backend,
                    args.postgres_url,
                    args.concurrency,
                    simulator_tree=tree,
                    workers=args.workers,
                )
            )
    for name in names:
        sys.stdout.write(_summary(name, rows[name], args.baseline) + "\n")
    if args.before:
        pairs = zip(rows["this checkout"], rows[str(args.before)], strict=True)
        ratios = [
            (a["wall_s"] / b["wall_s"], a["simulator_cpu_s"] / b["simulator_cpu_s"])
            for a, b in pairs
        ]
        wall = statistics.median(r[0] for r in ratios)
        cpu = statistics.median(r[1] for r in ratios)
        sys.stdout.write(
            f"this checkout / {args.before}, median of pairs: wall x{wall:.3f}, "
            f"simulator CPU x{cpu:.3f}\n"
        )
    return 0 if all(r["passed"] for each in rows.values() for r in each) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=ENTRA.concurrency)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", type=int, default=1, help="scimlab serve --workers.")
    parser.add_argument("--runs", type=int, default=1, help="Runs of each simulator.")
    parser.add_argument(
        "--baseline", type=float, help="A wall time in seconds to print each median's ratio to."
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="Another checkout whose simulator plays in turn with this one's (same server).",
    )
    sys.exit(asyncio.run(_main(parser.parse_args())))


if __name__ == "__main__":
    main()
