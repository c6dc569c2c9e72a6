"""Which driver errors mean "the database is unavailable right now" (answer 503, retry).

Connection loss, refused or exhausted connections, an operator shutting sessions down,
statement, lock and busy timeouts, and transaction conflicts are transient: the request can
be retried once the database answers again. Anything else from a driver is a bug.
"""

from __future__ import annotations

import sqlite3

import asyncpg

__all__ = ["DRIVER_ERROR_TYPES", "is_refused_text", "is_unavailable"]

# Exception types an edge registers a handler for; ``is_unavailable`` decides per instance.
DRIVER_ERROR_TYPES: tuple[type[Exception], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    sqlite3.Error,
    OSError,
    TimeoutError,
)

_TRANSIENT_POSTGRES = (
    asyncpg.PostgresConnectionError,  # 08: connection exception
    asyncpg.exceptions.OperatorInterventionError,  # 57: shutdown, statement timeout
    asyncpg.exceptions.InsufficientResourcesError,  # 53: too many connections, disk full
    asyncpg.exceptions.LockNotAvailableError,  # 55P03: lock timeout
    asyncpg.exceptions.TransactionRollbackError,  # 40: serialization failure, deadlock
    asyncpg.exceptions.InvalidCatalogNameError,  # 3D000: the database is not there (yet)
    asyncpg.exceptions.CannotConnectNowError,
)

_SQLITE_TRANSIENT = ("locked", "busy", "disk i/o", "unable to open", "disk is full")


def is_unavailable(error: BaseException) -> bool:
    # InternalClientError: the protocol state of a connection the server has closed.
    if isinstance(
        error,
        OSError | TimeoutError | asyncpg.InterfaceError | asyncpg.exceptions.InternalClientError,
    ):
        return True
    if isinstance(error, _TRANSIENT_POSTGRES):
        return True
    if isinstance(error, asyncpg.exceptions.ObjectNotInPrerequisiteStateError):
        # 55000 is also "database ... is not currently accepting connections"
        return "accepting connections" in str(error)
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return any(marker in text for marker in _SQLITE_TRANSIENT)
    return False


def is_refused_text(error: BaseException) -> bool:
    """PostgreSQL refused a text value it cannot hold (U+0000): the request's fault, not the
    database's. Checks before each query catch it first; this is what one missed would raise."""
    return isinstance(error, asyncpg.exceptions.CharacterNotInRepertoireError)
