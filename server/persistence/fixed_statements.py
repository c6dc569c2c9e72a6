"""Fixed statements on the hot path, run on the driver without building a piccolo query.

Every SCIM request makes a few small queries (a read by id: the token, then the account with
its groups); piccolo's query compilation and result processing cost more than the query.
``DirectSql`` keeps each fixed statement in both dialects (``Statement``), or compiles a
filter's ``QueryString`` itself (``fetch_query``), and runs it:

* inside a transaction, on the transaction's connection (it sees its writes);
* on SQLite, a read through the engine's one reader (``PooledSQLiteEngine.read``: rows as
  ``sqlite3.Row`` without column converters, which :mod:`server.persistence.rows` reads),
  a write on the event loop's writer (:mod:`server.persistence.sqlite.writer`);
* on PostgreSQL, on an asyncpg connection it keeps between statements, taken in turn
  (:mod:`server.persistence.postgres.kept_connections`); asyncpg prepares and caches each statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import TransactionType

from server.persistence.engine import HELD_CONNECTIONS
from server.persistence.postgres.kept_connections import HeldConnections
from server.persistence.postgres.transaction import HeldTransaction
from server.persistence.sqlite.engine import PooledSQLiteEngine
from server.persistence.sqlite.reader import InlineReader, is_read

if TYPE_CHECKING:
    from collections.abc import Hashable, Sequence

    from piccolo.engine.base import Engine
    from piccolo.querystring import QueryString

__all__ = ["ColumnRow", "DirectSql", "Statement", "row_values"]


class ColumnRow(Protocol):
    """A result row read by column name: a dict from a pooled SQLite connection, a
    ``sqlite3.Row`` from the inline reader (a C row, cheaper to build than a dict), an
    ``asyncpg.Record``."""

    def __getitem__(self, column: str, /) -> Any: ...


def row_values(row: ColumnRow) -> Sequence[Any]:
    """A row's values in the order of its columns, to be read by position: ``sqlite3.Row``
    and ``asyncpg.Record`` are sequences already; a pooled SQLite connection's row is a dict
    (in the order of its columns)."""
    if isinstance(row, dict):
        return list(row.values())
    return cast("Sequence[Any]", row)


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
        if isinstance(engine, PooledSQLiteEngine):
            self._inline = engine.inline

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
            return await engine.read(query, args)  # type: ignore[no-any-return]
        written: Sequence[ColumnRow] = await engine.run_statement(query, args)
        return written

    def transaction(self) -> Any:
        """One transaction for the statements awaited inside (``PiccoloStore.transaction``);
        inside another, it joins that one. On PostgreSQL on a held connection
        (``HeldTransaction``); on SQLite the write lock is taken at BEGIN, so two writers
        queue instead of deadlocking when both try to upgrade a read lock."""
        if isinstance(self._engine, PostgresEngine):
            return HeldTransaction(self._engine, self._held)
        return self._engine.transaction(transaction_type=TransactionType.immediate)

    async def close(self) -> None:
        """Before the engine closes (its pool waits for the connections held here)."""
        await self._held.release_all()
