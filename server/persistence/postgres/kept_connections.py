"""PostgreSQL connections that ``DirectSql`` keeps between its statements.

A trip through asyncpg's pool (a proxy, a timeout and a shielded task on every release)
costs about as much CPU as a short statement. ``DirectSql``'s statements run outside
transactions, one at a time on a connection, with nothing to reset after them, so it takes
connections from the engine's pool once and keeps up to ``size``, handed out in turn (a FIFO
semaphore: asyncpg's own queue lets newcomers overtake waiters). A connection goes back to
the pool when a statement on it fails or is cancelled: the pool closes a broken one. A
transaction borrows an idle one (``lend``) and gives it back once it ended cleanly
(``take_back``; :mod:`server.persistence.postgres.transaction`).
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["HeldConnections"]


class HeldConnections:
    def __init__(self, size: int) -> None:
        self.size = size
        self._turns = asyncio.Semaphore(size)
        self._idle: list[tuple[Any, Any]] = []  # (pool, connection) of the pool it came from
        self._busy = 0  # statements running on a connection that comes back to _idle

    @property
    def idle(self) -> int:
        return len(self._idle)

    async def fetch(self, pool: Any, query: str, args: list[Any]) -> list[Any]:
        async with self._turns:
            held = self._idle.pop() if self._idle else (pool, await pool.acquire())
            self._busy += 1
            try:
                rows: list[Any] = await held[1].fetch(query, *args)
            except BaseException:
                await held[0].release(held[1])
                raise
            else:
                self._idle.append(held)
            finally:
                self._busy -= 1
            return rows

    def lend(self) -> tuple[Any, Any] | None:
        """An idle connection for a transaction (``None``: it takes one from the pool)."""
        return self._idle.pop() if self._idle else None

    async def take_back(self, pool: Any, connection: Any) -> None:
        """A connection after a transaction that ended cleanly (committed or rolled back):
        kept while what is idle and what running statements bring back stays within
        ``size``, else returned to its pool."""
        if len(self._idle) + self._busy < self.size:
            self._idle.append((pool, connection))
        else:
            await pool.release(connection)

    async def release_all(self) -> None:
        """Before the pool closes: it waits for every connection it handed out."""
        idle, self._idle = self._idle, []
        for pool, connection in idle:
            await pool.release(connection)
