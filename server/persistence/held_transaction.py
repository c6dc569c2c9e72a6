"""piccolo's PostgreSQL transaction on a connection ``DirectSql`` holds
(:mod:`server.persistence.held`), so a write skips asyncpg's pool twice: handing the
connection out and, on the way back, the reset and the shielded release task.

A transaction takes an idle held connection when there is one (else one from the pool) and,
once committed or rolled back, leaves it with the held ones while there is room. A
transaction that could not end cleanly (its COMMIT or ROLLBACK failed, or it was cancelled)
hands its connection to the pool, which resets or closes it: a held connection is only ever
one with no transaction open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from piccolo.engine.postgres import PostgresTransaction

if TYPE_CHECKING:
    from piccolo.engine.postgres import PostgresEngine

    from server.persistence.held import HeldConnections

__all__ = ["HeldTransaction"]


class HeldTransaction(PostgresTransaction):
    __slots__ = ("_held", "_pool")

    def __init__(self, engine: PostgresEngine, held: HeldConnections) -> None:
        super().__init__(engine)
        self._held = held
        self._pool: Any = None

    async def get_connection(self) -> Any:
        lent = self._held.lend()
        if lent is not None:
            self._pool, connection = lent
            return connection
        self._pool = self.engine.pool
        return await self._pool.acquire()

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        self.transaction = self.connection.transaction()
        try:
            await self.begin()  # type: ignore[no-untyped-call]
        except BaseException:
            await self._pool.release(self.connection)  # piccolo's own would keep it out
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        except BaseException:
            await self._pool.release(self.connection)
            raise
        finally:
            self.engine.current_transaction.reset(self.context)
        if isinstance(exception, BaseException) and not isinstance(exception, Exception):
            await self._pool.release(self.connection)  # cancelled or interrupted: reset it
        else:
            await self._held.take_back(self._pool, self.connection)
        return exception is None
