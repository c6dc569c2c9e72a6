"""Lookups by key that arrive in one turn of the event loop, answered by one call.

Under load many reads by id reach the database in the same turn. On SQLite each read alone
is a statement, and ``sqlite3`` releases the GIL at each step of one, which under granian
lets its own thread in and sends the event loop to wait for the GIL back; gathered, the
turn's reads are one statement that returns one row (``server.persistence.staff_batch``).
The figures are in BENCHMARKS.md.

The first lookup of a turn starts a task, which runs once the turn's other callbacks have
run, looks every gathered key up with one call and hands each caller its answer. When that
call fails, each key is looked up alone, so one bad key fails alone. A caller that is
cancelled while waiting leaves the others waiting on theirs.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Generic, TypeVar

from server.persistence.fallbacks import count_fallback

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence

__all__ = ["TurnBatch"]

K = TypeVar("K", bound="Hashable")
R = TypeVar("R")


class TurnBatch(Generic[K, R]):
    def __init__(
        self,
        fetch_many: Callable[[Sequence[K]], Awaitable[Mapping[K, R]]],
        *,
        max_keys: int = 64,
    ) -> None:
        """``fetch_many``: the answers for some keys; a key it does not answer gets None."""
        self._fetch_many = fetch_many
        self._max_keys = max_keys
        self._waiting: list[tuple[K, asyncio.Future[R | None]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, key: K) -> R | None:
        loop = asyncio.get_running_loop()
        if not self._waiting or loop is not self._loop:
            # A turn's first lookup; or one on a new loop, where a batch left on a closed
            # loop (a server stopped mid-turn, tests run one loop after another) never runs.
            self._waiting, self._loop = [], loop
            task = loop.create_task(self._answer())
            self._tasks.add(task)  # kept until done: the loop holds tasks only weakly
            task.add_done_callback(self._tasks.discard)
        future: asyncio.Future[R | None] = loop.create_future()
        self._waiting.append((key, future))
        return await future

    async def _answer(self) -> None:
        waiting, self._waiting = self._waiting, []
        try:
            for start in range(0, len(waiting), self._max_keys):
                await self._answer_part(waiting[start : start + self._max_keys])
        finally:
            for _, future in waiting:
                if not future.done():
                    future.cancel()  # this task was cancelled: so are the callers' waits

    async def _answer_part(self, part: list[tuple[K, asyncio.Future[R | None]]]) -> None:
        keys = list(dict.fromkeys(key for key, future in part if not future.done()))
        if not keys:
            return
        try:
            answers = await self._fetch_many(keys)
        except Exception:  # each key is asked again alone, and fails alone
            count_fallback("turn_batch", "shared_statement_failed")
            answers = None
        for key, future in part:
            if future.done():
                continue  # its caller was cancelled
            if answers is not None:
                future.set_result(answers.get(key))
                continue
            try:
                alone = await self._fetch_many([key])
            except Exception as error:  # handed to the one caller it concerns
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(alone.get(key))
