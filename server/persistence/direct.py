"""Fixed statements on the hot path, run without building a piccolo query for each call.

Every SCIM request makes a few small queries (a read by id: the token, then the account with
its groups). Through ``Table.raw(...).run()`` each paid for piccolo's query-string
compilation, its result processing and (on SQLite) a type converter per column, together more
than the query itself. ``DirectSql`` keeps each fixed statement in both dialects, compiled
once (``fetch``), or compiles a filter's ``QueryString`` itself (``fetch_query``), and runs it
straight on the driver:

* inside a transaction, on the transaction's connection (so it sees that transaction's
  writes);
* on SQLite, a read first on a read-only connection on the calling thread that never waits
  (:class:`server.persistence.sqlite_inline.InlineReader`, here without column converters:
  rows hold text and integers, which :mod:`server.persistence.rows` reads as well as typed
  values; and as ``sqlite3.Row``, read by column name), then on a pooled connection; a
  write on the event loop's writer (:mod:`server.persistence.sqlite_writer`);
* on PostgreSQL, on an asyncpg connection it keeps between statements (which prepares and
  caches the statement; :mod:`server.persistence.held`), taken in turn: asyncpg's queue lets
  a newcomer take a connection just handed to a waiter and sends the waiter to the back, so
  under load a few requests waited many turns (read p99 three times p50).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from piccolo.engine.postgres import PostgresEngine

from server.persistence.engine import HELD_CONNECTIONS
from server.persistence.held import HeldConnections
from server.persistence.held_transaction import HeldTransaction
from server.persistence.sqlite_inline import InlineReader, is_read
from server.persistence.sqlite_pool import PooledSQLiteEngine

if TYPE_CHECKING:
    from collections.abc import Hashable, Sequence

    from piccolo.engine.base import Engine
    from piccolo.querystring import QueryString

__all__ = ["ColumnRow", "DirectSql", "Statement"]


class ColumnRow(Protocol):
    """A result row read by column name: a dict from a pooled SQLite connection, a
    ``sqlite3.Row`` from the inline reader (a C row, cheaper to build than a dict), an
    ``asyncpg.Record``."""

    def __getitem__(self, column: str, /) -> Any: ...


_PLACEHOLDER = re.compile(r"\{\}")


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement with ``{}`` placeholders, as SQLite (``?``) and PostgreSQL (``$n``)."""

    sqlite: str
    postgres: str

    @classmethod
    def of(cls, text: str) -> Statement:
        numbers = iter(range(1, text.count("{}") + 1))
        return cls(
            sqlite=text.replace("{}", "?"),
            postgres=_PLACEHOLDER.sub(lambda _: f"${next(numbers)}", text),
        )


class DirectSql:
    def __init__(self, engine: Engine[Any]) -> None:
        self._engine = engine
        self.sqlite = isinstance(engine, PooledSQLiteEngine)
        self._inline: InlineReader | None = None
        self._held = HeldConnections(HELD_CONNECTIONS)
        if self.sqlite:
            assert isinstance(engine, PooledSQLiteEngine)
            self._inline = InlineReader(
                {**engine.connection_kwargs, "detect_types": 0}, row_factory=sqlite3.Row
            )

    def unchanged_since(self) -> Hashable | None:
        """A stamp equal to a later one only if nothing was committed in between (SQLite, out
        of a transaction: the inline reader's data version); ``None`` where no such stamp is
        known (PostgreSQL, where other hosts write without telling this one)."""
        if self._inline is None or not self.inline_reads:
            return None
        return self._inline.data_version()

    @property
    def in_transaction(self) -> bool:
        """Whether statements now run in a transaction (``PiccoloStore.transaction``)."""
        return self._engine.current_transaction.get() is not None

    @property
    def inline_reads(self) -> bool:
        """Whether a read now runs on SQLite's inline reader (SQLite, out of a transaction)."""
        return self._inline is not None and not self.in_transaction

    def argument(self, value: Any) -> Any:
        """SQLite keeps UUID columns as text; PostgreSQL takes uuid objects."""
        return str(value) if self.sqlite and value is not None else value

    async def fetch(self, statement: Statement, *args: Any) -> Sequence[ColumnRow]:
        query = statement.sqlite if self.sqlite else statement.postgres
        return await self._run(query, list(args))

    async def fetch_query(self, query: QueryString) -> Sequence[ColumnRow]:
        """A statement built as a piccolo ``QueryString`` (a filter's WHERE clause), run the
        same way: compiled here, without the rest of piccolo's query machinery."""
        text, args = query.compile_string(engine_type="sqlite" if self.sqlite else "postgres")
        return await self._run(text, args)

    async def _run(self, query: str, args: list[Any]) -> Sequence[ColumnRow]:
        transaction = self._engine.current_transaction.get()
        if not self.sqlite:
            if transaction is not None:
                return await transaction.connection.fetch(query, *args)  # type: ignore[no-any-return]
            return await self._held.fetch(self._engine.pool, query, args)  # type: ignore[attr-defined]
        if transaction is not None:
            rows: Sequence[ColumnRow] = await transaction.connection.execute_fetchall(query, args)
            return rows
        engine = self._engine
        assert isinstance(engine, PooledSQLiteEngine)
        assert self._inline is not None
        if is_read(query):
            found = self._inline.read(query, args)
            if found is not None:
                return found
            pooled: Sequence[ColumnRow] = await engine.run_pooled(query, args)
            return pooled
        written: Sequence[ColumnRow] = await engine.run_statement(query, args)
        return written

    def transaction(self) -> Any:
        """A PostgreSQL transaction on a held connection (``held_transaction``)."""
        assert isinstance(self._engine, PostgresEngine)
        return HeldTransaction(self._engine, self._held)

    async def close(self) -> None:
        """Before the engine closes (its pool waits for the connections held here)."""
        await self._held.release_all()
        if self._inline is not None:
            self._inline.close()
