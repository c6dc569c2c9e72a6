"""A PostgreSQL transaction on a connection ``DirectSql`` holds
(:mod:`server.persistence.postgres.kept_connections`), so a write skips asyncpg's pool both ways.

It is our own transaction, on asyncpg's public ``Connection.transaction()``; piccolo's
queries join it because it is what the engine's ``current_transaction`` holds, and piccolo
reads no more of a transaction than its ``connection``. A transaction takes an idle held
connection when there is one (else one from the pool) and, once committed or rolled back,
leaves it with the held ones while there is room. One that could not end cleanly (COMMIT or
ROLLBACK failed, or it was cancelled) hands its connection to the pool, which resets or
closes it: a held connection never has a transaction open. Inside a transaction, another
``transaction()`` joins the open one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contextvars import Token

    from piccolo.engine.postgres import PostgresEngine

    from server.persistence.postgres.kept_connections import HeldConnections

__all__ = ["HeldTransaction"]


class HeldTransaction:
    __slots__ = ("connection", "engine", "held", "outer", "pool", "token", "transaction")

    def __init__(self, engine: PostgresEngine, held: HeldConnections) -> None:
        self.engine = engine
        self.held = held
        self.outer: Any = engine.current_transaction.get()
        self.pool: Any = None
        self.connection: Any = None
        self.transaction: Any = None
        self.token: Token[Any] | None = None

    async def __aenter__(self) -> Any:
        if self.outer is not None:
            return self.outer
        lent = self.held.lend()
        if lent is not None:
            self.pool, self.connection = lent
        else:
            self.pool = self.engine.pool
            self.connection = await self.pool.acquire()
        self.transaction = self.connection.transaction()
        try:
            await self.transaction.start()
        except BaseException:
            await self.pool.release(self.connection)
            raise
        # piccolo types the variable as its own class; it reads only ``connection``.
        self.token = self.engine.current_transaction.set(self)  # type: ignore[arg-type]
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self.outer is not None:
            return False
        assert self.token is not None
        try:
            if exception is None:
                await self.transaction.commit()
            else:
                await self.transaction.rollback()
        except BaseException:
            await self.pool.release(self.connection)
            raise
        finally:
            self.engine.current_transaction.reset(self.token)
        if isinstance(exception, BaseException) and not isinstance(exception, Exception):
            await self.pool.release(self.connection)  # cancelled or interrupted: reset it
        else:
            await self.held.take_back(self.pool, self.connection)
        return False
