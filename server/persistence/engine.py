"""Turning ``SCIMLAB_DATABASE_URL`` into a piccolo engine, and its start and stop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from server.persistence.sqlite.engine import PooledSQLiteEngine
from server.settings import sqlite_file, sqlite_path

if TYPE_CHECKING:
    from piccolo.engine.base import Engine

#: Connections for piccolo's queries and transactions, and beyond them the ones
#: ``DirectSql`` keeps for the hot statements (``server.persistence.postgres.kept_connections``).
POOL_SIZE = 10
HELD_CONNECTIONS = 5

__all__ = [
    "HELD_CONNECTIONS",
    "POOL_SIZE",
    "close_engine",
    "create_engine",
    "keep_session",
    "start_engine",
]


def _postgres_config(database_url: str, timeout: float | None) -> dict[str, Any]:
    """asyncpg's connect arguments; ``timeout`` bounds connecting, and every statement and
    lock wait on the server (``statement_timeout``, ``lock_timeout``) and on the client."""
    config: dict[str, Any] = {"dsn": database_url}
    if timeout is not None:
        milliseconds = str(int(timeout * 1000))
        config.update(
            timeout=timeout,
            command_timeout=timeout + 1,
            server_settings={"statement_timeout": milliseconds, "lock_timeout": milliseconds},
        )
    return config


def create_engine(database_url: str, *, timeout: float | None = None) -> Engine[Any]:
    """``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or ``postgresql://...``.

    ``timeout`` (seconds) bounds every wait on the database: SQLite's busy timeout, and
    PostgreSQL's connect, statement and lock timeouts. None keeps the defaults (no bound on
    PostgreSQL statements: bulk seeding and migrations run that way).
    """
    scheme = urlsplit(database_url).scheme
    if scheme == "sqlite":
        path = sqlite_path(database_url)
        sqlite_file(database_url).parent.mkdir(parents=True, exist_ok=True)
        return PooledSQLiteEngine(path=path, timeout=30.0 if timeout is None else timeout)
    if scheme in {"postgres", "postgresql"}:
        return PostgresEngine(config=_postgres_config(database_url, timeout), log_queries=False)
    msg = f"unsupported database URL scheme {scheme!r}: use sqlite:/// or postgresql://"
    raise ValueError(msg)


async def keep_session(connection: Any) -> None:
    """What a returned connection needs beyond asyncpg's own clean-up (which rolls back an
    unfinished transaction): nothing. scimlab never changes session state (no SET, LISTEN,
    session-level advisory locks or cursors outside transactions), so asyncpg's default
    reset query (RESET ALL, UNLISTEN *, ...) would cost a round trip after every query."""


async def start_engine(engine: Engine[Any]) -> None:
    if isinstance(engine, SQLiteEngine):
        # WAL lets readers proceed while one writer commits; it persists in the file.
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    elif isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(
            min_size=1, max_size=POOL_SIZE + HELD_CONNECTIONS, reset=keep_session
        )


async def close_engine(engine: Engine[Any]) -> None:
    if isinstance(engine, PostgresEngine | PooledSQLiteEngine):
        await engine.close_connection_pool()
