"""PostgreSQL connections go back to the pool without asyncpg's reset query (a round trip
per query); what that query guarded against still cannot leak between requests."""

from __future__ import annotations

import asyncio
import contextvars
import itertools
from typing import TYPE_CHECKING, Any

import pytest

from server.persistence.engine import (
    HELD_CONNECTIONS,
    POOL_SIZE,
    close_engine,
    create_engine,
    start_engine,
)
from server.persistence.fixed_statements import DirectSql, Statement
from server.persistence.rate_buckets import PostgresBuckets

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from asyncpg import Pool
    from asyncpg.connection import LoggedQuery
    from piccolo.engine.postgres import PostgresEngine


@pytest.fixture
async def engine(postgres_database: str) -> AsyncIterator[PostgresEngine]:
    engine = create_engine(postgres_database, timeout=5)
    await start_engine(engine)
    await engine.run_ddl("CREATE TABLE IF NOT EXISTS pool_probe (id INTEGER PRIMARY KEY)")
    yield engine  # type: ignore[misc]
    await engine.run_ddl("DROP TABLE IF EXISTS pool_probe")
    await close_engine(engine)


async def test_a_connection_returned_inside_a_transaction_comes_back_rolled_back(
    engine: PostgresEngine,
) -> None:
    pool = engine.pool
    assert pool is not None
    async with pool.acquire() as connection:
        await connection.execute("BEGIN")
        await connection.execute("INSERT INTO pool_probe VALUES (1)")
        await connection.execute("SELECT pg_advisory_xact_lock(42)")
        leaked_pid = connection.get_server_pid()
    for _ in range(pool.get_size()):
        async with pool.acquire() as connection:
            assert not connection.is_in_transaction()
            assert await connection.fetchval("SELECT count(*) FROM pool_probe") == 0
            if connection.get_server_pid() == leaked_pid:
                held = await connection.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1",
                    leaked_pid,
                )
                assert held == 0


async def test_pooled_connections_keep_the_configured_timeouts(engine: PostgresEngine) -> None:
    for _ in range(3):
        rows = await engine._run_in_pool("SHOW statement_timeout", [])
        assert rows[0]["statement_timeout"] == "5s"


async def _queries_on_release(pool: Pool) -> list[str]:
    """What a connection sends when it goes back to the pool."""
    seen: list[str] = []

    def log(record: LoggedQuery) -> None:
        seen.append(record.query)

    async with pool.acquire() as connection:
        await connection.fetchval("SELECT 1")
        connection.add_query_logger(log)
    return list(seen)  # released: anything it sent on the way back is logged by now


async def test_neither_pool_sends_a_reset_query(
    engine: PostgresEngine, postgres_database: str
) -> None:
    assert engine.pool is not None
    assert await _queries_on_release(engine.pool) == []
    buckets = PostgresBuckets(postgres_database)
    try:
        assert await buckets.draw([]) == 0.0
        assert await _queries_on_release(await buckets._connect()) == []
    finally:
        await buckets.close()


class _RecordingPool:
    """The engine's pool, whose connections note which statement (by the number its client
    set) each runs, in the order they start: ``DirectSql`` keeps the connections it takes,
    so the order shows where a connection is used, not where it is handed out."""

    def __init__(self, pool: Pool, asking: contextvars.ContextVar[int]) -> None:
        self._pool = pool
        self._asking = asking
        self.handed: list[int] = []
        self.acquired = 0

    async def acquire(self) -> _RecordingConnection:
        self.acquired += 1
        return _RecordingConnection(await self._pool.acquire(), self)

    async def release(self, connection: _RecordingConnection) -> None:
        await self._pool.release(connection.inner)


class _RecordingConnection:
    def __init__(self, inner: Any, pool: _RecordingPool) -> None:
        self.inner = inner
        self._pool = pool

    async def fetch(self, query: str, *args: Any) -> Any:
        self._pool.handed.append(self._pool._asking.get())
        return await self.inner.fetch(query, *args)


async def test_statements_take_pooled_connections_in_the_order_they_ask(
    engine: PostgresEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More statements than pooled connections, asked in a closed loop as clients do: none
    takes a connection after more than a pool's worth of statements that asked after it.
    asyncpg's own queue lets a newcomer take a connection just handed to a waiter and sends
    that waiter to the back again; ``DirectSql`` hands connections out in turn. The order is
    noted where connections are handed out: the server's clock would also count how the OS
    happened to schedule its backends."""
    assert engine.pool is not None
    asking: contextvars.ContextVar[int] = contextvars.ContextVar("asking")
    recording = _RecordingPool(engine.pool, asking)
    monkeypatch.setattr(engine, "pool", recording)
    direct = DirectSql(engine)
    statement = Statement.of("SELECT pg_sleep(0.002), {}::int AS n")
    asked = itertools.count()

    async def client() -> None:
        for _ in range(8):
            number = next(asked)
            asking.set(number)
            [row] = await direct.fetch(statement, number)
            assert row["n"] == number

    await asyncio.gather(*(client() for _ in range(5 * POOL_SIZE)))
    await direct.close()
    # The connections were taken once and kept: no trip through asyncpg's pool per statement.
    assert recording.acquired == HELD_CONNECTIONS
    order = recording.handed
    assert sorted(order) == list(range(40 * POOL_SIZE))
    overtaken = max(
        sum(1 for later in order[: order.index(number)] if later > number) for number in order
    )
    print(f"overtaken {overtaken}")
    assert overtaken < 5 * POOL_SIZE, overtaken
