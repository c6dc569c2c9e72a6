"""The SQLite engine's write path: transactions and single writes on the event loop's own
connection, one at a time; another process's write lock sends them to a pooled connection;
however a transaction ends, the next one gets its turn; checkpoints still happen."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
from piccolo.querystring import QueryString

from server.persistence.sqlite.engine import PooledSQLiteEngine

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[PooledSQLiteEngine]:
    engine = PooledSQLiteEngine(path=str(tmp_path / "writer.db"), timeout=10)
    await engine.run_statement("PRAGMA journal_mode = WAL")
    await engine.run_statement("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    await engine.run_statement(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES counter (id))"
    )
    await engine.run_statement("INSERT INTO counter VALUES (1, 0)")
    yield engine
    await engine.close_connection_pool()


async def _sql(engine: PooledSQLiteEngine, query: str, *args: object) -> list[dict[str, Any]]:
    """Like piccolo's queries: inside a transaction, on the transaction's connection."""
    rows: list[dict[str, Any]] = await engine.run_querystring(QueryString(query, *args))
    return rows


async def _count(engine: PooledSQLiteEngine) -> int:
    rows = await _sql(engine, "SELECT n FROM counter WHERE id = 1")
    return int(rows[0]["n"])


async def _increment(engine: PooledSQLiteEngine, *, pause: float = 0.0) -> None:
    async with engine.transaction():
        [row] = await _sql(engine, "SELECT n FROM counter WHERE id = 1")
        await asyncio.sleep(pause)  # another task runs here, and must wait its turn
        await _sql(engine, "UPDATE counter SET n = {} WHERE id = 1", int(row["n"]) + 1)


async def test_concurrent_transactions_take_turns_and_lose_no_update(
    engine: PooledSQLiteEngine,
) -> None:
    await asyncio.gather(*(_increment(engine, pause=0.001) for _ in range(50)))
    assert await _count(engine) == 50


async def test_statements_run_on_the_event_loops_connection(engine: PooledSQLiteEngine) -> None:
    writer = engine._writer()
    assert writer is not None
    seen: list[str] = []
    writer.connection().set_trace_callback(seen.append)
    await _increment(engine)
    await _sql(engine, "INSERT INTO child VALUES (1, 1)")
    assert any(s.startswith("BEGIN") for s in seen)
    assert any(s.startswith("UPDATE counter") for s in seen)
    assert "COMMIT" in seen
    assert any(s.startswith("INSERT INTO child") for s in seen)


def _hold_write_lock(path: str, held: threading.Event, release: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE counter SET n = n + 100 WHERE id = 1")
    held.set()
    release.wait(10)
    other.execute("COMMIT")
    other.close()


@pytest.mark.parametrize("kind", ["transaction", "single write"])
async def test_another_process_writing_sends_the_write_to_a_pooled_connection(
    engine: PooledSQLiteEngine, tmp_path: Path, kind: str
) -> None:
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(
        target=_hold_write_lock, args=(str(tmp_path / "writer.db"), held, release)
    )
    holder.start()
    assert await asyncio.to_thread(held.wait, 5)
    if kind == "transaction":
        work = asyncio.ensure_future(_increment(engine))
    else:
        work = asyncio.ensure_future(_sql(engine, "UPDATE counter SET n = n + 1 WHERE id = 1"))
    await asyncio.sleep(0.2)
    assert not work.done()  # waiting on SQLite's lock in a pooled connection's thread...
    started = asyncio.get_running_loop().time()
    await asyncio.sleep(0.01)
    assert asyncio.get_running_loop().time() - started < 0.1  # ...while the loop runs on
    release.set()
    await work
    await asyncio.to_thread(holder.join, 5)
    assert await _count(engine) == 101
    await _increment(engine)  # the turn was given back
    assert await _count(engine) == 102


async def test_a_failed_commit_rolls_back_and_gives_the_turn_back(
    engine: PooledSQLiteEngine,
) -> None:
    async def orphan_child() -> None:
        async with engine.transaction():
            await _sql(engine, "PRAGMA defer_foreign_keys = ON")
            await _sql(engine, "UPDATE counter SET n = 7 WHERE id = 1")
            await _sql(engine, "INSERT INTO child VALUES (1, 999)")

    with pytest.raises(sqlite3.IntegrityError):
        await orphan_child()
    assert await _count(engine) == 0
    rows = await _sql(engine, "SELECT COUNT(*) AS n FROM child")
    assert rows == [{"n": 0}]
    await asyncio.wait_for(_increment(engine), timeout=5)
    assert await _count(engine) == 1


async def test_an_error_inside_a_transaction_rolls_back_and_gives_the_turn_back(
    engine: PooledSQLiteEngine,
) -> None:
    async def fail_half_way() -> None:
        async with engine.transaction():
            await _sql(engine, "UPDATE counter SET n = 5 WHERE id = 1")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fail_half_way()
    assert await _count(engine) == 0
    await asyncio.wait_for(_increment(engine), timeout=5)
    assert await _count(engine) == 1


async def test_a_cancelled_transaction_gives_the_turn_back(engine: PooledSQLiteEngine) -> None:
    slow = asyncio.ensure_future(_increment(engine, pause=10))
    await asyncio.sleep(0.05)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    await asyncio.wait_for(_increment(engine), timeout=5)
    assert await _count(engine) == 1


async def test_checkpoints_keep_the_write_ahead_log_bounded(
    engine: PooledSQLiteEngine, tmp_path: Path
) -> None:
    for n in range(3_000):
        await _sql(engine, "INSERT INTO child VALUES ({}, 1)", n + 10)
    wal = tmp_path / "writer.db-wal"
    # 3,000 commits of at least one 4 KiB page each make a log of over 12 MB without
    # checkpoints; SQLite's automatic one restarts it every 1,000 pages.
    assert wal.stat().st_size < 6_000_000


async def test_a_write_beside_the_tasks_own_transaction_fails_instead_of_hanging(
    engine: PooledSQLiteEngine,
) -> None:
    async def write_beside() -> None:
        async with engine.transaction():
            await engine.run_statement("UPDATE counter SET n = 1 WHERE id = 1")

    with pytest.raises(RuntimeError, match="outside the transaction"):
        await asyncio.wait_for(write_beside(), timeout=5)
    assert await _count(engine) == 0


# --- group commit: single writes that arrive together share one COMMIT -------------------


def _commits(engine: PooledSQLiteEngine) -> list[str]:
    writer = engine._writer()
    assert writer is not None
    seen: list[str] = []
    writer.connection().set_trace_callback(seen.append)
    return seen


async def _children(engine: PooledSQLiteEngine) -> list[int]:
    rows = await _sql(engine, "SELECT id FROM child ORDER BY id")
    return [int(row["id"]) for row in rows]


async def test_single_writes_that_arrive_together_share_a_commit(
    engine: PooledSQLiteEngine, tmp_path: Path
) -> None:
    seen = _commits(engine)
    await asyncio.gather(*(_sql(engine, "INSERT INTO child VALUES ({}, 1)", n) for n in range(50)))
    assert 1 <= seen.count("COMMIT") < 5
    # Each write returned only once committed: another connection sees every row.
    other = sqlite3.connect(tmp_path / "writer.db")
    assert other.execute("SELECT COUNT(*) FROM child").fetchone() == (50,)
    other.close()


async def test_a_write_that_breaks_a_constraint_fails_alone(engine: PooledSQLiteEngine) -> None:
    writes = [_sql(engine, "INSERT INTO child VALUES ({}, 1)", n) for n in (1, 2, 3)]
    writes.insert(2, _sql(engine, "INSERT INTO child VALUES ({}, 1)", 1))  # a taken key
    writes.append(_sql(engine, "INSERT INTO child VALUES ({}, 999)", 4))  # no such parent
    results = await asyncio.gather(*writes, return_exceptions=True)
    failed = [type(r) for r in results if isinstance(r, BaseException)]
    assert failed == [sqlite3.IntegrityError, sqlite3.IntegrityError]
    assert await _children(engine) == [1, 2, 3]


async def test_a_group_that_cannot_commit_keeps_none_of_its_writes(
    engine: PooledSQLiteEngine,
) -> None:
    # A deferred constraint is checked at COMMIT: the whole group fails, and nothing stays.
    await engine.run_statement(
        "CREATE TABLE late (id INTEGER PRIMARY KEY, parent INTEGER "
        "REFERENCES counter (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    writes = [_sql(engine, "INSERT INTO late VALUES ({}, 1)", n) for n in range(3)]
    writes.append(_sql(engine, "INSERT INTO late VALUES ({}, 999)", 3))
    results = await asyncio.gather(*writes, return_exceptions=True)
    assert all(isinstance(r, sqlite3.IntegrityError) for r in results)
    assert await _sql(engine, "SELECT COUNT(*) AS n FROM late") == [{"n": 0}]
    # The turn was given back: the next group and the next transaction go through.
    await asyncio.wait_for(_sql(engine, "INSERT INTO late VALUES ({}, 1)", 10), timeout=5)
    await asyncio.wait_for(_increment(engine), timeout=5)
    assert await _sql(engine, "SELECT id FROM late") == [{"id": 10}]


async def test_transactions_and_grouped_writes_take_turns(engine: PooledSQLiteEngine) -> None:
    work = [_sql(engine, "INSERT INTO child VALUES ({}, 1)", n) for n in range(30)]
    work += [_increment(engine, pause=0.001) for _ in range(10)]
    work += [_sql(engine, "UPDATE counter SET n = n + 1 WHERE id = 1") for _ in range(10)]
    await asyncio.gather(*work)
    assert await _count(engine) == 20
    assert await _children(engine) == list(range(30))


async def test_a_cancelled_writer_leaves_the_rest_of_its_group_committed(
    engine: PooledSQLiteEngine,
) -> None:
    writes = [
        asyncio.ensure_future(_sql(engine, "INSERT INTO child VALUES ({}, 1)", n)) for n in range(5)
    ]
    await asyncio.sleep(0)  # every write has run its statement and waits for the COMMIT
    writes[1].cancel()
    await asyncio.gather(*writes, return_exceptions=True)
    assert writes[1].cancelled()
    # Its statement was already in the group: it stands, as a committed write whose
    # answer was lost would.
    assert await _children(engine) == [0, 1, 2, 3, 4]


async def test_a_group_the_loop_has_not_come_round_to_is_committed_by_the_next_writer(
    engine: PooledSQLiteEngine,
) -> None:
    seen = _commits(engine)
    first = asyncio.ensure_future(_sql(engine, "INSERT INTO child VALUES ({}, 1)", 1))
    await asyncio.sleep(0)  # the first write waits for its group's COMMIT
    time.sleep(0.02)  # noqa: ASYNC251 - holding the loop is the point: the COMMIT waits
    await _sql(engine, "INSERT INTO child VALUES ({}, 1)", 2)
    await first
    statements = [s.split(" (")[0].split(" VALUES")[0] for s in seen]
    assert statements == [
        *("BEGIN IMMEDIATE", "INSERT INTO child", "COMMIT"),
        *("BEGIN IMMEDIATE", "INSERT INTO child", "COMMIT"),
    ]


async def test_a_transaction_ends_the_open_group_instead_of_waiting_a_loop_turn(
    engine: PooledSQLiteEngine,
) -> None:
    first = asyncio.ensure_future(_sql(engine, "INSERT INTO child VALUES ({}, 1)", 1))
    await asyncio.sleep(0)  # the write waits for its group's COMMIT, due next loop turn
    turns: list[str] = []
    asyncio.get_running_loop().call_soon(turns.append, "the loop turned")
    async with engine.transaction():
        await _sql(engine, "UPDATE counter SET n = n + 1 WHERE id = 1")
    assert turns == []  # the transaction ran at once: it did not queue behind the group
    await first
    assert await _children(engine) == [1]
    assert await _count(engine) == 1
