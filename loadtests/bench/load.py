"""A lean HTTP/1.1 load generator: keep-alive connections on asyncio streams, no parsing
beyond the status line and Content-Length, so it is not the bottleneck for the figures.

Every loop is bounded by a request count and a deadline, and only loopback hosts are allowed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loadtests.stats import percentile

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "LoadResult",
    "drive",
    "errors_text",
    "pooled_figures",
    "read_response",
    "request_bytes",
    "require_loopback",
    "say",
]


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    #: How many answers had each error status (400 and above).
    error_statuses: Counter[int] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    bodies: list[bytes] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed_s if self.elapsed_s else 0.0


def pooled_figures(results: Sequence[LoadResult]) -> dict[str, Any]:
    """Latency percentiles, errors and the request count of several runs taken together."""
    latencies = [ms for result in results for ms in result.latencies_ms]
    statuses: Counter[int] = sum((result.error_statuses for result in results), Counter())
    return {
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "errors": sum(result.errors for result in results),
        "error_statuses": {str(status): n for status, n in sorted(statuses.items())},
        "requests": len(latencies),
    }


def errors_text(row: dict[str, Any]) -> str:
    """``errors`` with the statuses that made them, e.g. ``2 (404: 1, 503: 1)``."""
    statuses = row.get("error_statuses") or {}
    if not statuses:
        return str(row["errors"])
    return f"{row['errors']} (" + ", ".join(f"{k}: {n}" for k, n in statuses.items()) + ")"


def say(line: str) -> None:
    """A progress line of a benchmark, shown at once (a full run takes many minutes)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def request_bytes(
    method: str, path: str, *, host: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


def _loopback(host: str) -> None:
    if host == "localhost" or ipaddress.ip_address(host).is_loopback:
        return
    msg = f"load tests target loopback addresses only, not {host}"
    raise ValueError(msg)


async def drive(
    host: str,
    port: int,
    make_request: Callable[[int], bytes],
    *,
    connections: int,
    total: int,
    duration_s: float,
    keep_bodies: bool = False,
) -> LoadResult:
    """Send up to ``total`` requests over ``connections`` for at most ``duration_s``."""
    _loopback(host)
    result = LoadResult()
    counter = iter(range(total))
    deadline = time.perf_counter() + duration_s

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for index in counter:
                if time.perf_counter() > deadline:
                    break
                started = time.perf_counter()
                writer.write(make_request(index))
                status, body = await _read_response(reader)
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                if status >= 400:
                    result.errors += 1
                    result.error_statuses[status] += 1
                if keep_bodies:
                    result.bodies.append(body)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    result.elapsed_s = time.perf_counter() - started
    return result


#: The rate-paced generator (``loadtests.bench.paced``) reads answers and checks hosts the
#: same way; public names so it need not reach into this module's private ones.
read_response = _read_response
require_loopback = _loopback
