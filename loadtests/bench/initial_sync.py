"""Wall time of an Entra initial sync of N users through the simulator, against scimlab
on a fresh database, with the server's memory sampled while it runs (flat, not growing
with the number of users). The row says how many objects the simulator had in flight
(``concurrency``: Entra's default unless the caller picks one), since the wall time
depends on it."""

from __future__ import annotations

import asyncio
import json
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


async def entra_initial_sync(
    users: int, backend: str, postgres_url: str, concurrency: int = ENTRA.concurrency
) -> dict[str, Any]:
    async with fresh_database(backend, postgres_url) as url:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        [practice] = await seed_fleet(Settings(database_url=url, public_url=base), 1, 0)
        env = {"SCIMLAB_DATABASE_URL": url, "SCIMLAB_PUBLIC_URL": base, **UNLIMITED}
        with serve(
            "scimlab", scimlab_command(port), port=port, probe="/healthz", base_path="", env=env
        ) as server:
            simulate = [
                str(BIN / "scimlab"),
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
            started = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                *simulate, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            reading = asyncio.ensure_future(process.communicate())
            while not reading.done() and time.perf_counter() - started < 3600:
                samples.append(_rss_mb(server.process.pid))
                await asyncio.wait([reading], timeout=0.5)
            if not reading.done():
                process.kill()
            output = (await reading)[0].decode(errors="replace")
            wall = time.perf_counter() - started
            peak = peak_rss_mb(server.process.pid)
    quarter = max(1, len(samples) // 4)
    row = {
        "backend": backend,
        "users": users,
        "concurrency": concurrency,
        "wall_s": round(wall, 1),
        "passed": process.returncode == 0,
        "rss_first_quarter_mb": round(max(samples[:quarter]), 1) if samples else None,
        "rss_last_quarter_mb": round(max(samples[-quarter:]), 1) if samples else None,
        "peak_rss_mb": round(peak, 1),
    }
    if not row["passed"]:
        row["tail"] = output[-1500:]
    sys.stdout.write(f"  entra initial sync: {json.dumps(row)}\n")
    return row
