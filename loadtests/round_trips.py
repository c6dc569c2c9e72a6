"""Counting the statements a process sends to PostgreSQL, for figures and tests.

Every statement scimlab sends goes through one of asyncpg's public ``Connection`` methods
(piccolo's queries, ``DirectSql``'s fixed statements, a transaction's BEGIN and COMMIT), each
one a round trip to the server once the statement is prepared. ``counted_round_trips``
wraps those methods for as long as it is open and records each call's text and the task that
made it, so a request's own statements are told from a background task's (the activity log's
flush).
"""

from __future__ import annotations

import asyncio
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
    sent: list[tuple[str, asyncio.Task[Any] | None]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.sent)

    def by(self, task: asyncio.Task[Any] | None) -> list[str]:
        """The statements ``task`` sent."""
        return [text for text, sender in self.sent if sender is task]

    def not_by(self, task: asyncio.Task[Any] | None) -> list[str]:
        """The statements other tasks sent."""
        return [text for text, sender in self.sent if sender is not task]


def _counting(
    method: Callable[..., Awaitable[Any]], seen: RoundTrips
) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def counted(connection: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        seen.sent.append((query, asyncio.current_task()))
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
