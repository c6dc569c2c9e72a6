"""Short SQLite reads on the calling thread, so a point read costs microseconds, not a trip
to a worker thread and back.

The connection is read-only (``PRAGMA query_only``), never waits for a lock (busy timeout
0) and gives up after a fixed budget of SQLite virtual-machine steps. Whatever it gives up
on returns ``None``, and the caller runs the query the ordinary way; so a long scan or a
locked database never stalls the event loop. Each read is its own autocommit statement,
and WAL mode gives it the latest committed data.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import TYPE_CHECKING, Any

from piccolo.engine.sqlite import dict_factory

from server.persistence.fallbacks import count_fallback

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

__all__ = ["STEP_BUDGET", "InlineReader", "is_read"]

#: SQLite steps a read may take inline (a read by key takes a few hundred; a page of users,
#: a few tens of thousands). The progress handler is checked every ``STEP_BUDGET`` steps.
STEP_BUDGET = 20_000


def is_read(query: str) -> bool:
    return query.lstrip()[:6].upper() == "SELECT"


class _StepBudget:
    """The progress handler: interrupts a read at its second check, so only after at least
    one whole budget of its own steps.

    SQLite does not restart the count for each execution of a cached statement, so a
    handler that interrupted at its first check would now and then abandon a read by key.
    """

    __slots__ = ("checks",)

    def __init__(self) -> None:
        self.checks = 0

    def __call__(self) -> int:
        self.checks += 1
        return 1 if self.checks >= 2 else 0


class InlineReader:
    """One read-only connection per thread (each is used only by its own thread; closing
    may happen from another, hence ``check_same_thread=False``), opened on first use."""

    def __init__(
        self,
        connection_kwargs: dict[str, Any],
        *,
        budget: int = STEP_BUDGET,
        row_factory: Callable[[sqlite3.Cursor, tuple[Any, ...]], Any] = dict_factory,
    ) -> None:
        """``row_factory``: dicts for piccolo; ``sqlite3.Row`` where rows are only read by
        column name (``DirectSql``), which SQLite builds in C."""
        self._kwargs = {**connection_kwargs, "check_same_thread": False, "timeout": 0.0}
        self._row_factory = row_factory
        self._budget = budget
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        database = str(connection_kwargs.get("database", ""))
        # A private in-memory database is not shared between connections.
        self.enabled = database not in {"", ":memory:"} and "mode=memory" not in database

    def _connection(self) -> sqlite3.Connection:
        return self._opened_here()[0]

    def _opened_here(self) -> tuple[sqlite3.Connection, _StepBudget]:
        opened: tuple[sqlite3.Connection, _StepBudget] | None = getattr(self._local, "opened", None)
        if opened is None:
            connection = sqlite3.connect(**self._kwargs)
            connection.execute("PRAGMA query_only = 1")
            connection.execute("PRAGMA busy_timeout = 0")
            connection.row_factory = self._row_factory
            budget = _StepBudget()
            connection.set_progress_handler(budget, self._budget)
            self._local.opened = opened = (connection, budget)
            with self._lock:
                self._opened.append(connection)
        return opened

    def read(self, query: str, args: list[Any]) -> list[Any] | None:
        """The rows, or ``None`` when the read would block or outgrew its budget."""
        if not self.enabled:
            return None
        connection, budget = self._opened_here()
        budget.checks = 0
        try:
            cursor = connection.execute(query, args)
            try:
                rows: list[Any] = cursor.fetchall()
            finally:
                cursor.close()
        except sqlite3.OperationalError as error:
            # Interrupted (over budget), busy or locked: the pooled path decides.
            reason = "over_budget" if "interrupt" in str(error) else "locked"
            count_fallback("sqlite_inline_read", reason)
            return None
        return rows

    def data_version(self) -> tuple[object, Hashable] | None:
        """A stamp that changes whenever another connection commits (the writer, another
        process): two equal stamps mean nothing was written in between. It is this thread's
        connection with its ``PRAGMA data_version``, SQLite's own answer to that question
        (only comparable with the same connection's, hence the pair). ``None`` where there
        is no such connection or no answer."""
        if not self.enabled:
            return None
        connection, budget = self._opened_here()
        # The step budget applies here too: left as the last read left it, it could
        # interrupt this pragma.
        budget.checks = 0
        try:
            cursor = connection.execute("PRAGMA data_version")
            try:
                version: int = cursor.fetchone()[0]
            finally:
                cursor.close()
        except sqlite3.OperationalError:
            # Interrupted all the same: no stamp, so the caller asks the database.
            count_fallback("sqlite_data_version", "unanswered")
            return None
        return connection, version

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
        self._local = threading.local()
