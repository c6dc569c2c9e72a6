"""The wal-index header as a commit stamp: after any commit, by this process or another, and
after checkpoints of every kind, the stamp is new whenever SQLite's own ``PRAGMA
data_version`` is; with nothing committed, it stays as it was."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from server.persistence.wal_index import HEADER_SIZE, WalIndex, header_stamp

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = str(tmp_path / "stamp.db")
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode = WAL")
    setup.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)")
    setup.close()
    return path


@pytest.fixture
def observer(database: str) -> Iterator[tuple[sqlite3.Connection, WalIndex]]:
    """A connection that has read in WAL mode (as the inline reader has), and the index."""
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("SELECT COUNT(*) FROM item").fetchone()
    index = WalIndex.open(database)
    assert index is not None
    yield connection, index
    index.close()
    connection.close()


def _data_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA data_version").fetchone()[0])


def _operations(writer: sqlite3.Connection, rng: random.Random) -> list[Callable[[], object]]:
    def insert() -> None:
        writer.execute("INSERT INTO item (name) VALUES (?)", [f"n{rng.random()}"])

    def update() -> None:
        writer.execute("UPDATE item SET name = name || 'x' WHERE id = (SELECT MAX(id) FROM item)")

    def rolled_back() -> None:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO item (name) VALUES ('never')")
        writer.execute("ROLLBACK")

    def empty_commit() -> None:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("COMMIT")

    def many_in_one() -> None:
        writer.execute("BEGIN")
        for n in range(rng.randrange(1, 50)):
            writer.execute("INSERT INTO item (name) VALUES (?)", [f"bulk{n}"])
        writer.execute("COMMIT")

    def read() -> None:
        writer.execute("SELECT COUNT(*) FROM item").fetchone()

    checkpoints = [
        lambda mode=mode: writer.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        for mode in ("PASSIVE", "FULL", "RESTART", "TRUNCATE")
    ]
    return [insert, update, rolled_back, empty_commit, many_in_one, read, *checkpoints]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_stamp_is_new_whenever_the_data_version_is(
    database: str, observer: tuple[sqlite3.Connection, WalIndex], seed: int
) -> None:
    connection, index = observer
    writer = sqlite3.connect(database, isolation_level=None)
    rng = random.Random(seed)
    operations = _operations(writer, rng)
    changed = 0
    try:
        stamp, version = index.stamp(), _data_version(connection)
        for _ in range(300):
            operation = rng.choice(operations)
            operation()
            new_stamp, new_version = index.stamp(), _data_version(connection)
            assert new_stamp is not None
            if new_version != version:
                assert new_stamp != stamp, operation
                changed += 1
            if operation.__name__ == "read":
                assert new_stamp == stamp  # nothing committed, nothing new
            stamp, version = new_stamp, new_version
    finally:
        writer.close()
    assert changed > 100  # the sequence did commit, often


def test_a_commit_from_another_process_gives_a_new_stamp(
    database: str, observer: tuple[sqlite3.Connection, WalIndex]
) -> None:
    _, index = observer
    before = index.stamp()
    assert index.stamp() == before
    script = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "c.execute(\"INSERT INTO item (name) VALUES ('elsewhere')\"); c.commit(); c.close()"
    )
    subprocess.run([sys.executable, "-c", script, database], check=True)
    after = index.stamp()
    assert after is not None
    assert after != before


def test_there_is_no_index_outside_wal_mode(tmp_path: Path) -> None:
    path = str(tmp_path / "journal.db")
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.execute("CREATE TABLE item (id INTEGER PRIMARY KEY)")
        assert WalIndex.open(path) is None
        assert WalIndex.open(str(tmp_path / "missing.db")) is None
    finally:
        connection.close()


def test_a_closed_index_gives_no_stamp(
    database: str, observer: tuple[sqlite3.Connection, WalIndex]
) -> None:
    index = WalIndex.open(database)
    assert index is not None
    assert index.stamp() is not None
    index.close()
    assert index.stamp() is None  # the store shutting down while a request reads


def _header(*, init: int = 1, counter: int = 7) -> bytes:
    header = bytearray(HEADER_SIZE)
    header[8] = counter  # iChange, the transaction counter
    header[12] = init  # isInit
    return bytes(header)


def test_a_header_counts_only_when_both_copies_agree_and_it_is_built() -> None:
    header = _header()
    assert header_stamp(header, header) == header
    # A commit writes the second copy, then the first: caught between, no stamp.
    assert header_stamp(header, _header(counter=8)) is None
    assert header_stamp(_header(counter=8), header) is None
    assert header_stamp(_header(init=0), _header(init=0)) is None  # not built yet
    assert header_stamp(header[:20], header[:20]) is None  # a file too short
