"""Counting the statements a process sends to PostgreSQL, for figures and tests.

Every statement scimlab sends goes through one of asyncpg's public ``Connection`` methods
(piccolo's queries, ``DirectSql``'s fixed statements, a transaction's BEGIN and COMMIT), each
one a round trip to the server once the statement is prepared. ``counted_round_trips``
wraps those methods for as long as it is open and counts the calls, with the text of each.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from unittest import mock

import asyncpg

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

__all__ = ["RoundTrips", "counted_round_trips"]

#: asyncpg's ``Connection`` methods that send a statement and wait for its answer.
_SENDING = ("execute", "executemany", "fetch", "fetchrow", "fetchval", "fetchmany")


@dataclass
class RoundTrips:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


def _counting(
    method: Callable[..., Awaitable[Any]], seen: RoundTrips
) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def counted(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        seen.statements.append(query)
        return await method(connection, query, *args, **kwargs)

    return counted


@contextlib.contextmanager
def counted_round_trips() -> Iterator[RoundTrips]:
    """The statements sent on any asyncpg connection while open."""
    seen = RoundTrips()
    with contextlib.ExitStack() as patches:
        for name in _SENDING:
            method = getattr(asyncpg.Connection, name)
            patches.enter_context(
                mock.patch.object(asyncpg.Connection, name, _counting(method, seen))
            )
        yield seen
