"""PostgreSQL transactions run on the connections ``DirectSql`` holds
(``server.persistence.postgres.transaction``): a clean end leaves the connection held, with no
transaction open; anything else hands it to the pool, which resets or closes it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from server.persistence.fixed_statements import Statement
from server.persistence.postgres.kept_connections import HeldConnections
from server.persistence.store import open_store

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from server.persistence.store import PiccoloStore

PID = Statement.of("SELECT pg_backend_pid() AS pid")
COUNT = Statement.of("SELECT count(*) AS n FROM held_probe")
INSERT = Statement.of("INSERT INTO held_probe VALUES ({}) RETURNING id")


@pytest.fixture
async def pg_store(postgres_database: str) -> AsyncIterator[PiccoloStore]:
    store = await open_store(postgres_database)
    await store.engine.run_ddl("DROP TABLE IF EXISTS held_probe")
    await store.engine.run_ddl("CREATE TABLE held_probe (id INTEGER PRIMARY KEY)")
    yield store
    await store.engine.run_ddl("DROP TABLE IF EXISTS held_probe")
    await store.close()


def _held(store: PiccoloStore) -> HeldConnections:
    held: HeldConnections = store.direct._held
    return held


async def _count(store: PiccoloStore) -> int:
    [row] = await store.direct.fetch(COUNT)
    return int(row["n"])


async def test_a_transaction_runs_on_a_held_connection_and_leaves_it_held(
    pg_store: PiccoloStore,
) -> None:
    [outside] = await pg_store.direct.fetch(PID)
    assert _held(pg_store).idle == 1
    async with pg_store.transaction():
        [inside] = await pg_store.direct.fetch(PID)
        await pg_store.direct.fetch(INSERT, 1)
        assert _held(pg_store).idle == 0  # lent to this transaction
    assert inside["pid"] == outside["pid"]
    assert _held(pg_store).idle == 1
    [after] = await pg_store.direct.fetch(PID)
    assert after["pid"] == outside["pid"]
    assert await _count(pg_store) == 1


async def test_a_failed_transaction_rolls_back_and_keeps_a_clean_connection(
    pg_store: PiccoloStore,
) -> None:
    await pg_store.direct.fetch(PID)

    async def refused() -> None:
        async with pg_store.transaction():
            await pg_store.direct.fetch(INSERT, 2)
            raise ValueError("refused")

    async def twice() -> None:
        async with pg_store.transaction():
            await pg_store.direct.fetch(INSERT, 3)
            await pg_store.direct.fetch(INSERT, 3)

    with pytest.raises(ValueError, match="refused"):
        await refused()
    held = _held(pg_store)
    assert held.idle == 1
    assert not held._idle[0][1].is_in_transaction()
    assert await _count(pg_store) == 0
    with pytest.raises(asyncpg.UniqueViolationError):  # an aborted transaction, rolled back
        await twice()
    assert held.idle == 1
    assert not held._idle[0][1].is_in_transaction()
    assert await _count(pg_store) == 0


async def test_a_cancelled_transaction_hands_its_connection_to_the_pool(
    pg_store: PiccoloStore, postgres_database: str
) -> None:
    [first] = await pg_store.direct.fetch(PID)
    entered = asyncio.Event()

    async def slow_write() -> None:
        async with pg_store.transaction():
            await pg_store.direct.fetch(INSERT, 4)
            entered.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(slow_write())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _held(pg_store).idle == 0
    assert await _count(pg_store) == 0
    observer = await asyncpg.connect(postgres_database)
    try:
        state = await observer.fetchval(
            "SELECT state FROM pg_stat_activity WHERE pid = $1", first["pid"]
        )
    finally:
        await observer.close()
    assert state in {None, "idle"}  # rolled back by the pool, or closed; never left open


async def test_a_transaction_whose_connection_died_never_comes_back(
    pg_store: PiccoloStore, postgres_database: str
) -> None:
    [first] = await pg_store.direct.fetch(PID)
    killer = await asyncpg.connect(postgres_database)
    seen: list[int] = []

    async def killed() -> None:
        async with pg_store.transaction():
            [inside] = await pg_store.direct.fetch(PID)
            seen.append(inside["pid"])
            await killer.execute("SELECT pg_terminate_backend($1)", inside["pid"])
            await asyncio.sleep(0.2)
            await pg_store.direct.fetch(INSERT, 5)

    try:
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await killed()
    finally:
        await killer.close()
    assert seen == [first["pid"]]
    assert _held(pg_store).idle == 0
    [later] = await pg_store.direct.fetch(PID)
    assert later["pid"] != first["pid"]
    assert await _count(pg_store) == 0


class _Pool:
    def __init__(self) -> None:
        self.released: list[Any] = []
        self.made = 0

    async def acquire(self) -> Any:
        self.made += 1
        return _Connection(self.made)

    async def release(self, connection: Any) -> None:
        self.released.append(connection)


class _Connection:
    def __init__(self, number: int) -> None:
        self.number = number

    async def fetch(self, *_: Any) -> list[Any]:
        await asyncio.sleep(0)
        return [self.number]


async def test_a_connection_comes_back_only_while_the_held_ones_have_room() -> None:
    pool, held = _Pool(), HeldConnections(1)
    await held.fetch(pool, "q", [])
    lent = held.lend()
    assert lent is not None
    assert held.lend() is None
    await held.fetch(pool, "q", [])  # the statement took another: now it is the held one
    await held.take_back(*lent)
    assert [c.number for c in pool.released] == [1]
    assert held.idle == 1
    again = held.lend()
    assert again is not None
    await held.take_back(*again)
    assert held.idle == 1
    assert [c.number for c in pool.released] == [1]
