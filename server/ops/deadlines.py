"""Request deadlines kept by one sweep per event loop instead of a timer per request.

``asyncio.timeout`` schedules a timer when a request comes in and cancels it when the response
starts, a cost on every request that ends in time (nearly all of them). Here a request in
flight is an entry in a dict; a sweep that runs every ``deadline / 8`` (at most once a second)
while any request is in flight cancels the task of each entry past its deadline. A request is
cut between its deadline and one sweep period later, the precision asked of a 30-second limit.

The cancellation is told apart from any other the way ``asyncio.timeout`` tells its own: the
entry is marked expired, and the task's ``uncancel()`` must bring its count back to zero.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

__all__ = ["Deadlines", "InFlight"]


@dataclass(slots=True)
class InFlight:
    """One request that has not started its response yet."""

    task: asyncio.Task[object]
    due: float
    key: int
    expired: bool = field(default=False)


class Deadlines:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._period = min(1.0, max(0.005, seconds / 8))
        self._open: dict[int, InFlight] = {}
        self._keys = itertools.count()
        self._sweeping: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def in_flight(self) -> int:
        """Requests whose deadline is still running."""
        return len(self._open)

    @property
    def sweeping(self) -> bool:
        return self._sweeping is not None

    def enter(self) -> InFlight:
        """Start the clock of the request running in the current task."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        if task is None:  # pragma: no cover - an ASGI app always runs in a task
            msg = "a request deadline needs a running task"
            raise RuntimeError(msg)
        entry = InFlight(task, loop.time() + self.seconds, next(self._keys))
        self._open[entry.key] = entry
        if self._loop is not loop or self._sweeping is None:
            self._loop = loop
            self._sweeping = loop.call_later(self._period, self._sweep, loop)
        return entry

    def stop(self, entry: InFlight) -> None:
        """The response has started (or the request is over): no cut from here on."""
        self._open.pop(entry.key, None)

    def cut(self, entry: InFlight, error: BaseException) -> bool:
        """Whether ``error``, raised by the request, is this deadline's own cancellation."""
        return (
            entry.expired
            and isinstance(error, asyncio.CancelledError)
            and entry.task.uncancel() == 0
        )

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop is not self._loop:
            return  # a loop this app no longer serves on (tests run one loop after another)
        now = loop.time()
        for key, entry in list(self._open.items()):
            if entry.task.done() or entry.task.get_loop() is not loop:
                del self._open[key]  # ended without ``stop``, or left behind by a closed loop
            elif entry.due <= now:
                del self._open[key]
                entry.expired = True
                entry.task.cancel()
        self._sweeping = loop.call_later(self._period, self._sweep, loop) if self._open else None
