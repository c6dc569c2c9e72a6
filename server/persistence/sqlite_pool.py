"""A SQLite engine that keeps its connections open.

piccolo's SQLite engine opens a new aiosqlite connection (and so a new thread) for every
query outside a transaction, and for every transaction; that dominated the cost of a SCIM
read. This engine keeps a few connections per event loop and lends them out: queries borrow
one for their duration, transactions for theirs. WAL mode lets readers proceed while a
writer commits; writers still serialise on SQLite's own lock (with a busy timeout).

A round trip to an aiosqlite thread costs more than a point read itself (a queue, a thread
wake-up and a wake-up of the event loop, each fighting for the GIL), so a query takes one
trip, not four, and reads outside transactions first run on the event loop's own read-only
connection (:mod:`server.persistence.sqlite_inline`). That connection never waits: a read
that would block on a lock, or outgrows a small budget of SQLite steps, is abandoned and run
on a pooled connection instead.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import TYPE_CHECKING, Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, dict_factory

from server.persistence.sqlite_inline import InlineReader, is_read
from server.persistence.sqlite_writer import InlineWriter

if TYPE_CHECKING:
    from piccolo.table import Table

__all__ = ["PooledSQLiteEngine"]


class _Pool:
    def __init__(self, engine: PooledSQLiteEngine, size: int) -> None:
        self._engine = engine
        self._idle: list[aiosqlite.Connection] = []
        self._slots = asyncio.Semaphore(size)

    async def acquire(self) -> aiosqlite.Connection:
        await self._slots.acquire()
        try:
            if self._idle:
                return self._idle.pop()
            return await self._engine.open_connection()
        except BaseException:
            self._slots.release()
            raise

    async def release(self, connection: aiosqlite.Connection, *, broken: bool = False) -> None:
        try:
            if broken or connection.in_transaction:
                # Never lend out a connection in an unknown state.
                await connection.close()
            else:
                self._idle.append(connection)
        finally:
            self._slots.release()

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().close()


class _Lease:
    """What piccolo's transaction holds: the borrowed connection, returned on close()."""

    def __init__(self, pool: _Pool, connection: aiosqlite.Connection) -> None:
        self._pool = pool
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    @property
    def row_factory(self) -> Any:
        return self._connection.row_factory

    @row_factory.setter
    def row_factory(self, factory: Any) -> None:
        self._connection.row_factory = factory

    async def close(self) -> None:
        await self._pool.release(self._connection)


class PooledSQLiteEngine(SQLiteEngine):
    def __init__(self, path: str, *, pool_size: int = 4, timeout: float = 30.0) -> None:
        super().__init__(path=path, timeout=timeout)
        self._pool_size = pool_size
        self._pools: dict[asyncio.AbstractEventLoop, _Pool] = {}
        self._writers: dict[asyncio.AbstractEventLoop, InlineWriter] = {}
        self._inline = InlineReader(self.connection_kwargs)

    def _pool(self) -> _Pool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = _Pool(self, self._pool_size)
        return pool

    async def open_connection(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute("PRAGMA synchronous = NORMAL")  # safe with WAL
        return connection

    def _writer(self) -> InlineWriter | None:
        if not self._inline.enabled:  # a private in-memory database: pooled connections only
            return None
        loop = asyncio.get_running_loop()
        writer = self._writers.get(loop)
        if writer is None:
            writer = self._writers[loop] = InlineWriter(
                self.connection_kwargs,
                row_factory=dict_factory,
                fallback=self._pooled_connection,
            )
        return writer

    async def _pooled_connection(self) -> _Lease:
        pool = self._pool()
        return _Lease(pool, await pool.acquire())

    async def get_connection(self) -> Any:
        """A transaction's connection: the event loop's own writer when it is free of
        other processes' writes (see :mod:`server.persistence.sqlite_writer`)."""
        writer = self._writer()
        if writer is None:
            return await self._pooled_connection()
        return await writer.lease()

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        return await self.run_statement(query, args or [])

    async def run_statement(self, query: str, args: list[Any]) -> Any:
        """One statement outside any transaction: a read inline, a write on the event loop's
        writer, either on a pooled connection when those are busy or locked."""
        if is_read(query):
            found = self._inline.read(query, args)
            if found is not None:
                return found
        else:
            writer = self._writer()
            if writer is not None:
                written = await writer.run(query, args)
                if written is not None:
                    return written
        return await self.run_pooled(query, args)

    async def run_pooled(self, query: str, args: list[Any]) -> Any:
        """One statement on a pooled connection, outside any transaction."""
        pool = self._pool()
        connection = await pool.acquire()
        broken = False
        try:
            rows = await connection.execute_fetchall(query, args)
            if connection.in_transaction:
                await connection.commit()
            return rows
        except sqlite3.Error:
            broken = connection.in_transaction
            if broken:
                await connection.rollback()
                broken = False
            raise
        except BaseException:
            broken = True
            raise
        finally:
            await pool.release(connection, broken=broken)

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        return await connection.execute_fetchall(query, args or [])

    async def close_connection_pool(self) -> None:
        writer = self._writers.pop(asyncio.get_running_loop(), None)
        if writer is not None:
            writer.close()
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()
        self._inline.close()
