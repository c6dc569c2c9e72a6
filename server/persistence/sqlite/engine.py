"""piccolo's SQLite engine with connections kept open, and the one reader and one writer
on the event loop's thread.

piccolo opens a new aiosqlite connection (and so a thread) for every query and transaction;
this engine keeps a few per event loop and lends them out instead. Every piccolo query comes
in through the public ``run_querystring``: in a transaction, on its connection; otherwise a
write on the event loop's writer (:mod:`server.persistence.sqlite.writer`) and a read on a
pooled connection, which gives piccolo its column converters. ``read`` is the hot reads' way
in (``DirectSql``): the thread's read-only connection (:mod:`server.persistence.sqlite.reader`),
or a pooled one when that gives up (counted on ``/metrics``). WAL lets readers proceed while
one writer commits.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import TYPE_CHECKING, Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, dict_factory

from server.persistence.sqlite.reader import InlineReader, is_read
from server.persistence.sqlite.writer import InlineWriter

if TYPE_CHECKING:
    from piccolo.querystring import QueryString

__all__ = ["PooledSQLiteEngine"]


class _Pool:
    def __init__(self, engine: PooledSQLiteEngine, size: int) -> None:
        self._engine = engine
        self._idle: list[aiosqlite.Connection] = []
        self._slots = asyncio.Semaphore(size)
        self._closing: set[asyncio.Task[None]] = set()

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

    def discard(self, connection: aiosqlite.Connection) -> None:
        """Close a connection whose statement was cut short (cancelled), in a task of its
        own: its thread finishes the statement first, which may wait for another process's
        lock, and the cancelled request must not wait for that."""
        task = asyncio.get_running_loop().create_task(self.release(connection, broken=True))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
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

    def discard(self) -> None:
        """The transaction never began (its BEGIN failed or was cancelled): piccolo will not
        close this lease, so the connection is closed here."""
        self._pool.discard(self._connection)


class PooledSQLiteEngine(SQLiteEngine):
    def __init__(self, path: str, *, pool_size: int = 4, timeout: float = 30.0) -> None:
        super().__init__(path=path, timeout=timeout)
        self._pool_size = pool_size
        self._pools: dict[asyncio.AbstractEventLoop, _Pool] = {}
        self._writers: dict[asyncio.AbstractEventLoop, InlineWriter] = {}
        # The one inline reader: rows as ``sqlite3.Row`` and without piccolo's column
        # converters, for the statements ``DirectSql`` runs (``read``).
        self.inline = InlineReader(
            {**self.connection_kwargs, "detect_types": 0}, row_factory=sqlite3.Row
        )

    def _pool(self) -> _Pool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = _Pool(self, self._pool_size)
        return pool

    async def open_connection(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        try:
            await connection.execute("PRAGMA foreign_keys = 1")
            await connection.execute("PRAGMA synchronous = NORMAL")  # safe with WAL
        except BaseException:
            await asyncio.shield(connection.close())  # cancelled: never leave its thread
            raise
        return connection

    def _writer(self) -> InlineWriter | None:
        if not self.inline.enabled:  # a private in-memory database: pooled connections only
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
        other processes' writes (see :mod:`server.persistence.sqlite.writer`)."""
        writer = self._writer()
        if writer is None:
            return await self._pooled_connection()
        return await writer.lease()

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        """Every piccolo query comes through here (``Engine``'s public entry point): compiled
        with piccolo's own ``compile_string``, then run in the current transaction or as one
        statement (``run_statement``)."""
        query, args = querystring.compile_string(engine_type=self.engine_type)
        return await self._run(query, args)

    async def run_ddl(self, ddl: str, in_pool: bool = False) -> Any:
        return await self._run(ddl, [])

    async def _run(self, query: str, args: list[Any]) -> Any:
        transaction = self.current_transaction.get()
        if transaction is not None:
            return await transaction.connection.execute_fetchall(query, args)
        return await self.run_statement(query, args)

    async def read(self, query: str, args: list[Any]) -> Any:
        """One read outside any transaction, as ``sqlite3.Row`` rows without column
        converters: inline on this thread's read-only connection, else (it would wait for a
        lock, or outgrew its budget: counted in ``/metrics``) on a pooled connection."""
        found = self.inline.read(query, args)
        if found is not None:
            return found
        return await self.run_pooled(query, args)

    async def run_statement(self, query: str, args: list[Any] | None = None) -> Any:
        """One piccolo statement outside any transaction: a write on the event loop's writer
        (a pooled connection when another process holds the lock), a read on a pooled
        connection, whose rows carry piccolo's converted values."""
        args = args or []
        if not is_read(query):
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
        try:
            rows = await connection.execute_fetchall(query, args)
            if connection.in_transaction:
                await connection.commit()
        except sqlite3.Error:
            try:
                if connection.in_transaction:
                    await connection.rollback()
            except BaseException:
                pool.discard(connection)
                raise
            await pool.release(connection)
            raise
        except BaseException:
            # Cancelled: the statement may still be waiting in the connection's thread.
            pool.discard(connection)
            raise
        await pool.release(connection)
        return rows

    async def close_connection_pool(self) -> None:
        writer = self._writers.pop(asyncio.get_running_loop(), None)
        if writer is not None:
            writer.close()
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()
        self.inline.close()
