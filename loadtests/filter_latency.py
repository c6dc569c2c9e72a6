"""Benchmark: ``filter=userName eq`` latency as the practice grows (issue 3's index proof).

For each database (SQLite, PostgreSQL) and each size, it seeds a fresh database, then sends
``--requests`` lookups for random seeded users (in random letter case) through the whole app
in-process, and prints the median and p99 per size and the p99 ratio to the smallest size.
An indexed lookup keeps that ratio near 1; a scan grows it with the table.

    python -m loadtests.filter_latency --sizes 1000 100000 --requests 500
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from litestar.testing import AsyncTestClient

from loadtests.seed import seed_practice, seed_users, seeded_user_name
from loadtests.stats import percentile
from server.app import create_app
from server.persistence.store import open_store
from server.services import Services
from server.settings import Settings

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


class _Database:
    """A throwaway database: a temporary SQLite file, or a PostgreSQL database dropped after."""

    def __init__(self, backend: str, postgres_url: str) -> None:
        self.backend = backend
        self.postgres_url = postgres_url
        self.url = ""
        self._name = f"scimlab_bench_{uuid.uuid4().hex[:10]}"
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    async def __aenter__(self) -> str:
        if self.backend == "sqlite":
            self._folder = tempfile.TemporaryDirectory(prefix="scimlab-bench-")
            self.url = f"sqlite:///{Path(self._folder.name) / 'bench.db'}"
        else:
            admin = await asyncpg.connect(self.postgres_url)
            await admin.execute(f'CREATE DATABASE "{self._name}"')
            await admin.close()
            self.url = self.postgres_url.rsplit("/", 1)[0] + f"/{self._name}"
        return self.url

    async def __aexit__(self, *_: object) -> None:
        if self._folder is not None:
            self._folder.cleanup()
        else:
            admin = await asyncpg.connect(self.postgres_url)
            await admin.execute(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)')
            await admin.close()


async def _lookups(url: str, size: int, requests: int, rng: random.Random) -> list[float]:
    # The benchmark measures lookups, not the rate limiter (which would answer 429 past 250).
    settings = Settings(database_url=url, public_url="http://bench.local", rate_limit_store="off")
    store = await open_store(url)
    try:
        services = Services.build(store, settings)
        practice_id, _client_id, _secret = await seed_practice(services, f"Bench {size}")
        await seed_users(store, practice_id, size)
        token = await services.practices.create_static_token(practice_id, actor="bench")
    finally:
        await store.close()
    headers = {"Authorization": f"Bearer {token.token}"}
    path = f"/scim/v2/{practice_id}/Users"
    timings: list[float] = []
    async with AsyncTestClient(create_app(settings), base_url="http://bench.local") as client:
        for number in range(requests + 20):
            name = seeded_user_name(rng.randrange(size))
            if rng.random() < 0.5:
                name = name.upper()
            started = time.perf_counter()
            response = await client.get(
                path, params={"filter": f'userName eq "{name}"'}, headers=headers
            )
            elapsed = time.perf_counter() - started
            if response.status_code != 200 or response.json()["totalResults"] != 1:
                msg = f"lookup of {name} answered {response.status_code}: {response.text[:200]}"
                raise RuntimeError(msg)
            if number >= 20:  # the first requests warm caches and connections
                timings.append(elapsed * 1000)
    return timings


async def run(
    sizes: list[int], requests: int, backends: list[str], postgres_url: str
) -> list[dict[str, object]]:
    rng = random.Random(7)
    rows: list[dict[str, object]] = []
    for backend in backends:
        baseline_p99 = None
        for size in sizes:
            async with _Database(backend, postgres_url) as url:
                seeded = time.perf_counter()
                timings = await _lookups(url, size, requests, rng)
                total = time.perf_counter() - seeded
            p99 = percentile(timings, 0.99)
            baseline_p99 = baseline_p99 or p99
            row = {
                "backend": backend,
                "users": size,
                "requests": len(timings),
                "median_ms": round(statistics.median(timings), 2),
                "p99_ms": round(p99, 2),
                "p99_ratio_to_smallest": round(p99 / baseline_p99, 2),
                "wall_s": round(total, 1),
            }
            rows.append(row)
            print(
                f"{backend:10} users={size:>8} requests={row['requests']:>5} "
                f"median={row['median_ms']:>7} ms  p99={row['p99_ms']:>7} ms  "
                f"p99/p99(smallest)={row['p99_ratio_to_smallest']:>5}  ({row['wall_s']} s)",
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args(argv)
    asyncio.run(run(args.sizes, args.requests, args.backends, args.postgres_url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
