"""The SQLite engine's reads: ``read`` runs short ones inline on the thread's read-only
connection, anything longer or blocked on a pooled connection; piccolo's queries
(``run_statement``) read on a pooled connection. All see the latest committed write."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import TYPE_CHECKING

import pytest
from prometheus_client import REGISTRY

from server.persistence.fixed_statements import DirectSql, Statement
from server.persistence.sqlite.engine import PooledSQLiteEngine
from server.persistence.sqlite.reader import InlineReader, is_read

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[PooledSQLiteEngine]:
    engine = PooledSQLiteEngine(path=str(tmp_path / "inline.db"))
    await engine.run_statement("PRAGMA journal_mode = WAL")
    await engine.run_statement("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)")
    yield engine
    await engine.close_connection_pool()


def _inline_reads(engine: PooledSQLiteEngine) -> list[str]:
    """Record which statements the inline connection ran."""
    seen: list[str] = []
    engine.inline._connection().set_trace_callback(seen.append)
    return seen


@pytest.mark.parametrize(
    ("query", "read"),
    [
        ("SELECT 1", True),
        ("  select * from item", True),
        ("INSERT INTO item VALUES (1, 'a')", False),
        ("WITH x AS (SELECT 1) DELETE FROM item", False),
        ("PRAGMA journal_mode", False),
    ],
)
def test_only_select_statements_count_as_reads(query: str, *, read: bool) -> None:
    assert is_read(query) is read


async def test_a_point_read_runs_inline_and_sees_the_last_commit(
    engine: PooledSQLiteEngine,
) -> None:
    seen = _inline_reads(engine)
    for n in range(3):
        await engine.run_statement("INSERT INTO item VALUES (?, ?)", [n, f"name{n}"])
        rows = await engine.read("SELECT name FROM item WHERE id = ?", [n])
        assert [dict(row) for row in rows] == [{"name": f"name{n}"}]
    assert sum("SELECT name FROM item" in s for s in seen) == 3
    assert not any(s.startswith("INSERT") for s in seen)


async def test_a_long_scan_outgrows_the_budget_and_still_answers(
    engine: PooledSQLiteEngine,
) -> None:
    values = ",".join(f"({n}, 'n{n}')" for n in range(20_000))
    await engine.run_statement(f"INSERT INTO item VALUES {values}")  # noqa: S608
    seen = _inline_reads(engine)
    rows = await engine.read("SELECT COUNT(*) AS n FROM item WHERE name LIKE ?", ["%9%"])
    expected = sum("9" in f"n{n}" for n in range(20_000))
    assert rows == [{"n": expected}]
    # The inline attempt was abandoned part-way, and the pooled connection gave the answer.
    assert engine.inline.read("SELECT COUNT(*) AS n FROM item WHERE name LIKE '%9%'", []) is None
    assert any("LIKE" in s for s in seen)


async def test_a_locked_database_sends_the_read_to_the_pool(tmp_path: Path) -> None:
    path = str(tmp_path / "locked.db")
    engine = PooledSQLiteEngine(path=path, timeout=5)
    await engine.run_statement("CREATE TABLE item (id INTEGER PRIMARY KEY)")
    await engine.run_statement("INSERT INTO item VALUES (7)")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # rollback journal: no reader may enter
    try:
        assert engine.inline.read("SELECT id FROM item", []) is None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [dict(row) for row in await engine.read("SELECT id FROM item", [])] == [{"id": 7}]
    await engine.close_connection_pool()


async def test_the_inline_connection_cannot_write(engine: PooledSQLiteEngine) -> None:
    connection = engine.inline._connection()
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
        connection.execute("INSERT INTO item VALUES (99, 'x')")


def test_a_private_memory_database_is_never_read_inline() -> None:
    assert not InlineReader({"database": ":memory:"}).enabled
    assert not InlineReader({"database": "file:x?mode=memory", "uri": True}).enabled
    assert InlineReader({"database": "/tmp/x.db"}).enabled  # noqa: S108 - never opened


async def test_point_reads_repeated_past_the_budget_all_run_inline(tmp_path: Path) -> None:
    """SQLite keeps counting steps across executions of a cached statement; a read must be
    abandoned only for its own steps, never for those its predecessors took."""
    engine = PooledSQLiteEngine(path=str(tmp_path / "budget.db"))
    await engine.run_statement("PRAGMA journal_mode = WAL")
    await engine.run_statement("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)")
    await engine.run_statement("INSERT INTO item VALUES (1, 'one')")
    reader = InlineReader(engine.connection_kwargs, budget=200)
    try:
        answers = [reader.read("SELECT name FROM item WHERE id = ?", [1]) for _ in range(500)]
        assert answers.count([{"name": "one"}]) == 500
        # A scan longer than the budget is still abandoned, and reads after it run inline.
        values = ",".join(f"({n}, 'n{n}')" for n in range(2, 2_000))
        await engine.run_statement(f"INSERT INTO item VALUES {values}")  # noqa: S608
        assert reader.read("SELECT COUNT(*) AS n FROM item WHERE name LIKE '%9%'", []) is None
        assert reader.read("SELECT name FROM item WHERE id = ?", [1]) == [{"name": "one"}]
    finally:
        reader.close()
        await engine.close_connection_pool()


@pytest.mark.parametrize("journal", ["WAL", "DELETE"])
async def test_the_data_version_is_read_whatever_the_last_read_left_of_the_budget(
    tmp_path: Path, journal: str
) -> None:
    """Found by ``scimlab bench``: about one token check in 30,000 answered 500, because
    ``PRAGMA data_version`` ran under the step budget a read before it had used up."""
    engine = PooledSQLiteEngine(path=str(tmp_path / "version.db"))
    await engine.run_statement(f"PRAGMA journal_mode = {journal}")
    await engine.run_statement("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)")
    values = ",".join(f"({n}, 'n{n}')" for n in range(1, 2_000))
    await engine.run_statement(f"INSERT INTO item VALUES {values}")  # noqa: S608
    # As DirectSql opens it, the one user of the data version.
    reader = InlineReader(engine.connection_kwargs, budget=10, row_factory=sqlite3.Row)
    tight = InlineReader(engine.connection_kwargs, budget=1, row_factory=sqlite3.Row)
    try:
        versions = []
        for _ in range(50):
            assert reader.read("SELECT COUNT(*) AS n FROM item WHERE name LIKE '%9%'", []) is None
            versions.append(reader.data_version())
        assert all(v is not None and v[1] == versions[0][1] for v in versions), versions
        # A budget no statement fits in: no version, and no error either.
        assert tight.data_version() is None
    finally:
        reader.close()
        tight.close()
        await engine.close_connection_pool()


async def test_the_stamp_follows_commits_and_outlives_a_closed_reader(
    engine: PooledSQLiteEngine,
) -> None:
    reader = InlineReader(engine.connection_kwargs, row_factory=sqlite3.Row)
    try:
        first = reader.data_version()
        assert first is not None
        assert reader.data_version() == first  # nothing committed
        await engine.run_statement("INSERT INTO item (name) VALUES ('new')")
        second = reader.data_version()
        assert second is not None
        assert second != first
        reader.close()  # the store closing
        reopened = reader.data_version()
        assert reopened is not None
        assert reopened[0] is not second[0]  # a new connection, compared only with its own
        await engine.run_statement("INSERT INTO item (name) VALUES ('newer')")
        assert reader.data_version() != reopened
    finally:
        reader.close()


def _fallbacks(path: str, reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "scimlab_fast_path_fallbacks_total", {"path": path, "reason": reason}
    )
    return value or 0.0


async def test_fast_paths_that_give_up_are_counted(engine: PooledSQLiteEngine) -> None:
    """A read over the inline budget, and a write while another process holds the lock,
    are answered the ordinary way and counted on /metrics."""
    values = ",".join(f"({n}, 'n{n}')" for n in range(1, 30_000))
    await engine.run_statement(f"INSERT INTO item VALUES {values}")  # noqa: S608
    before = _fallbacks("sqlite_inline_read", "over_budget")
    scan = "SELECT COUNT(*) AS n FROM item WHERE name LIKE ?"
    rows = await engine.read(scan, ["%9%"])
    assert rows[0]["n"] > 0
    assert _fallbacks("sqlite_inline_read", "over_budget") == before + 1

    other = sqlite3.connect(engine.connection_kwargs["database"], timeout=0)
    before = _fallbacks("sqlite_writer", "locked")
    other.execute("BEGIN IMMEDIATE")
    pending = asyncio.create_task(engine.run_statement("INSERT INTO item (name) VALUES ('late')"))
    await asyncio.sleep(0.2)
    other.rollback()  # the pooled connection, waiting on its busy timeout, now writes
    await pending
    other.close()
    assert _fallbacks("sqlite_writer", "locked") == before + 1
    found = await engine.read("SELECT name FROM item WHERE name = 'late'", [])
    assert found == [{"name": "late"}]


async def test_the_hot_statements_share_the_engines_one_reader(
    engine: PooledSQLiteEngine,
) -> None:
    """One inline reader per engine: ``DirectSql``'s reads and its "nothing committed
    since" stamp use the engine's read-only connection, and piccolo's own reads do not."""
    direct = DirectSql(engine)
    seen = _inline_reads(engine)
    await engine.run_statement("INSERT INTO item VALUES (1, 'one')")
    assert [dict(r) for r in await direct.fetch(Statement.of("SELECT name FROM item"))] == [
        {"name": "one"}
    ]
    stamp = direct.unchanged_since()
    assert stamp is not None
    assert stamp[0] is engine.inline._connection()  # type: ignore[index]
    assert await engine.run_statement("SELECT id FROM item") == [{"id": 1}]
    assert [s for s in seen if s.startswith("SELECT")] == ["SELECT name FROM item"]
