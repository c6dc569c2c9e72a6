"""SQLite writes on the event loop's own connection, one transaction at a time.

A statement on a pooled aiosqlite connection costs a trip to its thread and back, and a
transaction makes four (BEGIN, read, write, COMMIT). In WAL mode with ``synchronous =
NORMAL`` a commit does not wait for the disk, so a short write can run right on the event
loop, on ``InlineWriter``'s connection.

Transactions in this process take turns on it (an ``asyncio.Lock``, so waiting never blocks
the loop). Single writes (INSERT, UPDATE, DELETE outside a transaction) share commits: the
first opens a transaction and commits it one loop turn later, and the writes that reach the
writer in between join it, each answering only once the COMMIT is done; concurrent writes
change mostly the same pages, so one commit writes them once. A transaction ends the open
group at once rather than wait a loop turn, and a group still open after 5 ms is committed
by the next writer that finds it.

The connection never waits for SQLite's lock itself (busy timeout 0): when another process
holds the write lock, the statement or the whole transaction moves to a pooled connection,
which waits in its own thread, and the move is counted on ``/metrics``. SQLite's automatic
checkpoint runs here too: from a pooled thread it was refused as busy while this connection
kept writing, and the log grew without bound.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from typing import TYPE_CHECKING, Any

from server.persistence.fallbacks import count_fallback

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = ["InlineWriter", "WriteLease"]


#: A group still open this long is committed by the next writer that finds it.
_MAX_GROUP_AGE = 0.005
_GROUPABLE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _is_busy(error: sqlite3.Error) -> bool:
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error).lower()


def _fetch_all(connection: sqlite3.Connection, query: str, args: Any) -> list[Any]:
    cursor = connection.execute(query, args)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _alone(connection: sqlite3.Connection, query: str, args: list[Any]) -> list[Any] | None:
    """One statement in autocommit mode; ``None`` when another process holds the lock."""
    try:
        return _fetch_all(connection, query, args)
    except sqlite3.Error as error:
        if _is_busy(error):
            count_fallback("sqlite_writer", "locked")
            return None
        raise


class InlineWriter:
    def __init__(
        self,
        connection_kwargs: dict[str, Any],
        *,
        row_factory: Any,
        fallback: Callable[[], Awaitable[Any]],
    ) -> None:
        self._kwargs = {**connection_kwargs, "check_same_thread": False, "timeout": 0.0}
        self._row_factory = row_factory
        self._fallback = fallback  # a pooled connection, for when another process writes
        self._connection: sqlite3.Connection | None = None
        self._turn = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None
        self._group: _Group | None = None

    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(**self._kwargs)
            connection.row_factory = self._row_factory
            connection.execute("PRAGMA foreign_keys = 1")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA busy_timeout = 0")
            self._connection = connection
        return self._connection

    async def lease(self) -> WriteLease:
        self._check_not_holding()
        self._commit_open_group()
        await self._turn.acquire()
        self._holder = asyncio.current_task()
        return WriteLease(self)

    def _check_not_holding(self) -> None:
        if self._turn.locked() and self._holder is asyncio.current_task():
            # Waiting would never end: the turn is this task's own open transaction.
            msg = "a write outside the transaction this task has open"
            raise RuntimeError(msg)

    async def run(self, query: str, args: list[Any]) -> list[Any] | None:
        """One statement, committed before this returns; ``None`` when another process holds
        the lock. Statements that arrive while a commit is pending share it (group commit)."""
        self._check_not_holding()
        if not _GROUPABLE.match(query):
            # PRAGMA, VACUUM, DDL: some cannot run inside a transaction at all.
            self._commit_open_group()
            async with self._turn:
                return _alone(self.connection(), query, args)
        group = self._group
        if group is not None and time.monotonic() - group.opened > _MAX_GROUP_AGE:
            # The loop has not come round to its COMMIT (tasks that never wait hold it up):
            # commit here rather than keep every write of the group unseen.
            self._commit(group)
            group = None
        if group is None:
            await self._turn.acquire()
            try:
                self.connection().execute("BEGIN IMMEDIATE").close()
            except sqlite3.Error as error:
                self._turn.release()
                if _is_busy(error):
                    count_fallback("sqlite_writer", "locked")
                    return None
                raise
            group = self._group = _Group()
            asyncio.get_running_loop().call_soon(self._commit, group)
        rows = group.execute(self.connection(), query, args)
        await group.joined()
        return rows

    def _commit_open_group(self) -> None:
        """A transaction (or a statement that cannot join a group) ends the open group now
        instead of waiting for its loop turn: under load a turn is long, and transactions
        would queue one turn each behind groups."""
        if self._group is not None:
            self._commit(self._group)

    def _commit(self, group: _Group) -> None:
        """Ends a group one loop turn after it opened, once the statements that were ready
        to run in that turn have joined it (or earlier, when a late writer finds it old)."""
        if group.finished:
            return
        self._group = None
        try:
            if group.failure is None:
                self.connection().execute("COMMIT").close()
        except sqlite3.Error as error:
            self._roll_back()
            group.failure = error
        finally:
            group.finish()
            self._turn.release()

    def _roll_back(self) -> None:
        connection = self.connection()
        if connection.in_transaction:
            try:
                connection.execute("ROLLBACK").close()
            except sqlite3.Error:
                self.close()  # unknown state: start again from a new connection

    def release(self) -> None:
        if self._turn.locked():
            self._holder = None
            self._turn.release()

    async def fallback(self) -> Any:
        return await self._fallback()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class _Group:
    """Single statements sharing one transaction, and their writers waiting for its COMMIT.

    A statement that breaks a constraint is undone alone (SQLite's ABORT keeps the rest of
    the transaction) and fails at once; an error that ends the whole transaction fails every
    statement of the group.
    """

    def __init__(self) -> None:
        self.opened = time.monotonic()
        self.finished = False
        self.failure: sqlite3.Error | None = None
        self._waiting: list[asyncio.Future[None]] = []

    def execute(self, connection: sqlite3.Connection, query: str, args: list[Any]) -> list[Any]:
        if self.failure is not None:
            raise self.failure
        try:
            return _fetch_all(connection, query, args)
        except sqlite3.Error as error:
            if not connection.in_transaction:
                self.failure = error
            raise

    async def joined(self) -> None:
        """Until the group's COMMIT; its error if it failed."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        await waiter

    def finish(self) -> None:
        self.finished = True
        for waiter in self._waiting:
            if waiter.done():
                continue  # its request was cancelled; the write stands, as any committed one
            if self.failure is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(self.failure)


class WriteLease:
    """What piccolo's transaction holds: the inline connection for one transaction, or (when
    BEGIN finds another process writing) a pooled connection it hands everything to.

    A lease gives its turn back however the transaction ends: piccolo does not close the
    connection when COMMIT raises, so a failed COMMIT rolls back and releases here.
    """

    def __init__(self, writer: InlineWriter) -> None:
        self._writer = writer
        self._delegate: Any = None
        self._released = False

    @property
    def in_transaction(self) -> bool:
        if self._delegate is not None:
            return bool(self._delegate.in_transaction)
        return not self._released and self._writer.connection().in_transaction

    async def execute(self, query: str, args: Any = ()) -> None:
        if self._delegate is not None:
            await self._delegate.execute(query, args)
            return
        statement = query.strip().upper()
        if statement.startswith("BEGIN"):
            # Every transaction here may write: take the write lock at once, so another
            # process's lock is found now, while the transaction can still move to a pool.
            query = statement = "BEGIN IMMEDIATE"
        try:
            self._writer.connection().execute(query, args).close()
        except sqlite3.Error as error:
            if statement.startswith("BEGIN") and _is_busy(error):
                count_fallback("sqlite_writer_transaction", "locked")
                self._give_back()
                self._delegate = await self._writer.fallback()
                try:
                    await self._delegate.execute(query, args)
                except BaseException:
                    # Failed or cancelled (a request's deadline) while waiting for the lock:
                    # piccolo closes no connection whose BEGIN raised.
                    delegate, self._delegate = self._delegate, None
                    delegate.discard()
                    raise
                return
            if statement.startswith("BEGIN") or statement == "COMMIT":
                self._abandon()  # piccolo will not close this lease: give the turn back now
            raise

    async def execute_fetchall(self, query: str, args: Any = ()) -> list[Any]:
        if self._delegate is not None:
            rows: list[Any] = await self._delegate.execute_fetchall(query, args)
            return rows
        return _fetch_all(self._writer.connection(), query, args)

    async def close(self) -> None:
        if self._delegate is not None:
            await self._delegate.close()
            return
        self._abandon()

    def _abandon(self) -> None:
        """Roll back whatever is open and give the turn back (once)."""
        if self._released:
            return
        connection = self._writer.connection()
        if connection.in_transaction:
            try:
                connection.execute("ROLLBACK").close()
            except sqlite3.Error:
                self._writer.close()  # unknown state: never lend it out again
        self._give_back()

    def _give_back(self) -> None:
        if not self._released:
            self._released = True
            self._writer.release()
