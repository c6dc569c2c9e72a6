"""Benchmark: what the total of a SCIM user list costs, before and after the index that
answers it (migration m0109, ``staff_user (practice_id, scim_provisioned, scim_deleted)``).

It seeds a fresh database at the schema before that migration, prints the COUNT's query
plan and times the COUNT alone (the repository's own statement, via a zero-size page), the
first page of a cursor walk and two startIndex pages through the whole app; then applies the
migration and does the same again. On PostgreSQL the table is vacuumed and analysed after
seeding, as autovacuum would have done on a long-lived table.

    python -m loadtests.bench.count_index --users 200000 --backend sqlite postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import TYPE_CHECKING, Any

import asyncpg
from piccolo.querystring import QueryString

from loadtests.bench.load import say
from loadtests.bench.targets import fresh_database
from loadtests.seed import seed_practice, seed_users
from server.domain.query import ResourceQuery
from server.persistence.engine import close_engine, create_engine, start_engine
from server.persistence.migrate import apply_migrations
from server.persistence.migrations.piccolo_migrations import (
    m0108_scim_activity_indexes as before_index,
)
from server.persistence.staff_pages import count_statement, listed_accounts
from server.persistence.store import open_store
from server.services import Services
from server.settings import Settings

if TYPE_CHECKING:
    from uuid import UUID

    from server.persistence.store import PiccoloStore

__all__ = ["count_index_bench"]

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
_ORIGIN = "http://bench.local"


async def _migrate(url: str, up_to: str = "all") -> None:
    engine = create_engine(url)
    await start_engine(engine)
    try:
        await apply_migrations(engine, up_to=up_to)
    finally:
        await close_engine(engine)


async def _vacuum(url: str) -> None:
    if url.startswith("postgresql"):
        connection = await asyncpg.connect(url)
        await connection.execute("VACUUM (ANALYZE) staff_user")
        await connection.close()


async def _plan(store: PiccoloStore, practice_id: UUID) -> str:
    direct = store.direct
    count = count_statement(listed_accounts(direct.argument(practice_id)))
    if direct.sqlite:
        rows = await direct.fetch_query(QueryString("EXPLAIN QUERY PLAN {}", count))
        return " | ".join(str(row["detail"]) for row in rows)
    rows = await direct.fetch_query(QueryString("EXPLAIN (ANALYZE, BUFFERS) {}", count))
    return "\n    ".join(str(row["QUERY PLAN"]) for row in rows)


async def _timed(call: Any, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)


async def _measure(url: str, practice_id: UUID, token: str, users: int, repeats: int) -> None:
    from litestar.testing import AsyncTestClient  # noqa: PLC0415 - the CLI must not load the app

    from server.app import create_app  # noqa: PLC0415

    store = await open_store(url, migrate=False)
    try:
        say(f"  plan: {await _plan(store, practice_id)}")
        count_ms = await _timed(
            lambda: store.staff.list_scim(practice_id, ResourceQuery(limit=0)), repeats
        )
    finally:
        await store.close()
    settings = Settings(database_url=url, public_url=_ORIGIN, rate_limit_store="off")
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/scim/v2/{practice_id}/Users"
    figures = {"COUNT alone": count_ms}
    async with AsyncTestClient(create_app(settings, migrate=False), base_url=_ORIGIN) as client:

        async def get(params: dict[str, Any]) -> None:
            response = await client.get(path, params=params, headers=headers)
            if response.status_code != 200:
                msg = f"{params} answered {response.status_code}: {response.text[:200]}"
                raise RuntimeError(msg)

        await get({"count": 1})  # warm the app and its connections
        pages = {
            "first cursor page": {"cursor": "", "count": 1000},
            "startIndex=1": {"startIndex": 1, "count": 1000},
            f"startIndex={users // 2 + 1}": {"startIndex": users // 2 + 1, "count": 1000},
        }
        for label, params in pages.items():
            figures[label] = await _timed(lambda params=params: get(params), repeats)
    say("  p50 ms: " + ", ".join(f"{label} {ms}" for label, ms in figures.items()))


async def count_index_bench(backend: str, postgres_url: str, users: int, repeats: int) -> None:
    say(f"list count on {backend}: {users} users, median of {repeats}")
    async with fresh_database(backend, postgres_url) as url:
        await _migrate(url, up_to=before_index.ID)
        settings = Settings(database_url=url)
        store = await open_store(url, migrate=False)
        try:
            services = Services.build(store, settings)
            practice_id, _client, _secret = await seed_practice(services, "Count index")
            await seed_users(store, practice_id, users)
            token = await services.practices.create_static_token(practice_id, actor="bench")
        finally:
            await store.close()
        await _vacuum(url)
        say(" before the index:")
        await _measure(url, practice_id, token.token, users, repeats)
        started = time.perf_counter()
        await _migrate(url)
        say(f" migration applied in {time.perf_counter() - started:.1f} s; after the index:")
        await _vacuum(url)
        await _measure(url, practice_id, token.token, users, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--backend", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    arguments = parser.parse_args()
    for backend in arguments.backend:
        asyncio.run(
            count_index_bench(backend, arguments.postgres_url, arguments.users, arguments.repeats)
        )


if __name__ == "__main__":
    main()
