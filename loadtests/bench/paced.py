"""Open-loop, rate-paced load: request ``i`` leaves at ``start + i / rate`` whether or not the
earlier ones have been answered, the way an identity provider's sync job sends them. A slow
server then shows up as latency and a lower achieved rate; a closed loop would instead quietly
send less (coordinated omission) and look fine.

Two ways of falling behind are told apart, so a slow generator is not taken for a slow server:

* a *late* send left the scheduler more than ``late_after_ms`` after its time: the generator's
  own event loop was too busy to keep the schedule;
* a *queued* send found ``max_in_flight`` requests still unanswered and waited for one of them:
  the server was behind.

Every run is bounded: the schedule has ``count`` sends, and ``drain_s`` after its end, sends
still waiting are dropped (``sent < scheduled``) and requests still unanswered are cancelled
(``unanswered``). Only loopback hosts.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loadtests.bench.load import read_response, require_loopback

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["PacedResult", "Send", "pace"]

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass(frozen=True)
class Send:
    """One raw request, the statuses that count as success, and a label to group latencies."""

    data: bytes
    ok: frozenset[int]
    label: str


@dataclass
class PacedResult:
    scheduled: int
    sent: int = 0
    ok: int = 0
    errors: int = 0  # an unexpected status (429 included) or a broken connection
    throttled: int = 0  # 429s, also counted in ``errors``
    unanswered: int = 0  # sent but cancelled unanswered at the end of the drain
    late: int = 0
    queued: int = 0
    max_lag_ms: float = 0.0
    last_answer: float = 0.0  # perf_counter() of the last answer
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    unexpected: Counter[str] = field(default_factory=Counter)

    def fail(self, what: str) -> None:
        self.errors += 1
        self.unexpected[what] += 1


class _Connections:
    """Keep-alive connections to one server, oldest idle one first (none idles into a
    server's timeout); a new one is opened only when every open one is busy."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: deque[_Connection] = deque()
        self.opened: list[asyncio.StreamWriter] = []

    async def take(self) -> _Connection:
        if self.idle:
            return self.idle.popleft()
        connection = await asyncio.open_connection(self.host, self.port)
        self.opened.append(connection[1])
        return connection

    def close(self) -> None:
        for writer in self.opened:
            with contextlib.suppress(OSError):
                writer.close()


async def _send(request: Send, connections: _Connections, result: PacedResult) -> None:
    try:
        reader, writer = connection = await connections.take()
        sent_at = time.perf_counter()
        writer.write(request.data)
        status, _ = await read_response(reader)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        # A broken connection is not reused; the server closing it is an error too.
        result.fail(f"{request.label} connection")
        return
    answered = time.perf_counter()
    result.latencies_ms.setdefault(request.label, []).append((answered - sent_at) * 1000)
    result.last_answer = max(result.last_answer, answered)
    connections.idle.append(connection)
    if status in request.ok:
        result.ok += 1
        return
    result.throttled += status == 429
    result.fail(f"{request.label} {status}")


async def pace(
    host: str,
    port: int,
    make: Callable[[int], Send],
    *,
    rate: float,
    count: int,
    start: float,
    max_in_flight: int = 16,
    late_after_ms: float = 10.0,
    drain_s: float = 10.0,
) -> PacedResult:
    """Send ``make(0) .. make(count - 1)`` at ``rate`` per second from ``start`` (perf_counter)."""
    require_loopback(host)
    result = PacedResult(scheduled=count)
    connections = _Connections(host, port)
    slots = asyncio.Semaphore(max_in_flight)
    running: set[asyncio.Task[None]] = set()
    deadline = start + count / rate + drain_s

    async def send(request: Send) -> None:
        try:
            await _send(request, connections, result)
        finally:
            slots.release()

    left_at = start  # when the previous send got its slot
    for index in range(count):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        # Lag behind a schedule that waiting for the server already pushed back is not the
        # generator's: only time past max(due, previous send's slot) is.
        lag_ms = (time.perf_counter() - max(due, left_at)) * 1000
        result.max_lag_ms = max(result.max_lag_ms, lag_ms)
        result.late += lag_ms > late_after_ms
        result.queued += slots.locked()
        try:
            await asyncio.wait_for(slots.acquire(), timeout=max(deadline - time.perf_counter(), 0))
        except TimeoutError:
            break  # the rest were never sent: ``sent < scheduled``
        left_at = time.perf_counter()
        result.sent += 1
        task = asyncio.create_task(send(make(index)))
        running.add(task)
        task.add_done_callback(running.discard)

    if running:
        left = max(deadline - time.perf_counter(), 0)
        _, pending = await asyncio.wait(set(running), timeout=left)
        for task in pending:
            task.cancel()
            result.unanswered += 1
        await asyncio.gather(*pending, return_exceptions=True)
    connections.close()
    return result
