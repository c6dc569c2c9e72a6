"""The rate-paced generator against a tiny loopback server whose speed and answers the test
sets: it keeps its schedule while the server is slow (open loop), tells its own lag (late)
from the server's (queued), and counts unexpected statuses, 429s and unanswered requests."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from loadtests.bench.load import drive, request_bytes
from loadtests.bench.paced import PacedResult, Send, pace

if TYPE_CHECKING:
    from collections.abc import Callable

OK = frozenset({200})


@dataclass
class FakeServer:
    delay: float = 0.0
    status: int = 200
    arrivals: list[float] = field(default_factory=list)
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.arrivals.append(time.perf_counter())
                length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                await asyncio.sleep(self.delay)
                writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 2\r\n\r\n{{}}".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


async def _run(
    server: FakeServer,
    *,
    rate: float = 20,
    count: int = 20,
    make: Callable[[int], Send] | None = None,
    max_in_flight: int = 16,
    drain_s: float = 10.0,
) -> tuple[float, PacedResult]:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    data = request_bytes("GET", "/x", host="127.0.0.1", headers={})
    start = time.perf_counter() + 0.05
    async with listener:
        result = await pace(
            "127.0.0.1",
            port,
            make or (lambda _: Send(data, OK, "x")),
            rate=rate,
            count=count,
            start=start,
            max_in_flight=max_in_flight,
            drain_s=drain_s,
        )
    return start, result


async def test_sends_keep_their_schedule_while_the_server_is_slow() -> None:
    server = FakeServer(delay=0.2)  # four times the 50 ms between sends
    start, result = await _run(server, rate=20, count=20)
    assert result.ok == result.sent == 20
    assert result.queued == result.errors == 0
    # A closed loop would send the next request only after the answer: 200 ms apart, so its
    # second send would be 150 ms behind and its last about 2.9 s. Bounds well under that
    # leave room for a busy machine (26 ms of lag seen with the suite in two processes).
    assert result.max_lag_ms < 100, result.max_lag_ms
    drift = [abs(t - (start + i / 20)) for i, t in enumerate(server.arrivals)]
    assert max(drift) < 0.1, drift
    assert server.connections >= 4  # about delay * rate requests in flight at once
    assert min(result.latencies_ms["x"]) >= 190


async def test_a_server_that_falls_behind_queues_sends_without_making_them_late() -> None:
    server = FakeServer(delay=0.2)
    _, result = await _run(server, rate=20, count=20, max_in_flight=2)
    assert result.ok == 20
    assert result.queued >= 10
    # Queued sends wait for the server (up to about a second here), which is not the
    # generator's lag: counted as lag, it would pass 500 ms.
    assert result.max_lag_ms < 100, result.max_lag_ms
    assert server.connections == 2


async def test_a_busy_generator_counts_late_sends() -> None:
    server = FakeServer()
    data = request_bytes("GET", "/x", host="127.0.0.1", headers={})

    def make(index: int) -> Send:
        if index == 3:
            time.sleep(0.12)  # blocks the generator's event loop, as a busy one would
        return Send(data, OK, "x")

    _, result = await _run(server, rate=20, count=10, make=make)
    assert result.ok == 10
    assert result.late >= 1
    assert result.queued == 0
    assert result.max_lag_ms >= 50


@pytest.mark.parametrize(("status", "throttled"), [(429, 5), (503, 0)])
async def test_unexpected_statuses_are_errors_and_429s_are_counted(
    status: int, throttled: int
) -> None:
    _, result = await _run(FakeServer(status=status), rate=50, count=5)
    assert result.ok == 0
    assert result.errors == 5
    assert result.throttled == throttled
    assert result.unexpected == {f"x {status}": 5}


async def test_requests_still_open_after_the_drain_are_unanswered() -> None:
    _, result = await _run(FakeServer(delay=5), rate=20, count=4, drain_s=0.3)
    assert result.sent == 4
    assert result.ok == result.errors == 0
    assert result.unanswered == 4


@pytest.mark.parametrize("status", [200, 404, 503])
async def test_the_closed_loop_generator_counts_errors_by_status(status: int) -> None:
    server = FakeServer(status=status)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    data = request_bytes("GET", "/x", host="127.0.0.1", headers={})
    async with listener:
        result = await drive(
            "127.0.0.1", port, lambda _: data, connections=2, total=6, duration_s=10
        )
    assert result.count == 6
    failed = status >= 400
    assert result.errors == (6 if failed else 0)
    assert result.error_statuses == ({status: 6} if failed else {})
