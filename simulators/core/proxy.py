"""``scimlab record``: a recording reverse proxy in front of a SCIM server.

An identity provider (or a simulator) is pointed at the proxy instead of the server. Each
request is forwarded unchanged (the same method, path below the upstream URL, query, headers
apart from hop-by-hop ones, and body) and the server's answer goes back unchanged; the
exchange is written to a trace (``simulators.core.trace``) with secrets redacted and, when
asked, personal data pseudonymised. HTTP/1.1 with keep-alive, parsed by h11 on asyncio
streams; the upstream is reached through an injected ``httpx.AsyncClient``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import h11
import httpx

from simulators.core.pseudonym import Pseudonymiser
from simulators.core.trace import HOP_BY_HOP, TraceExchange, TraceWriter, decode_body

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = ["RecordingProxy", "record"]

MAX_BODY = 16 * 1024 * 1024  # a SCIM request is far smaller; past this the connection closes
READ = 65536


def _kind(path: str, content_type: str) -> str:
    """Token requests (a form POST to a token endpoint) pass through too; replay skips them."""
    token = "x-www-form-urlencoded" in content_type or path.rstrip("/").endswith("/token")
    return "token" if token else "scim"


class RecordingProxy:
    def __init__(self, upstream: str, client: httpx.AsyncClient, writer: TraceWriter) -> None:
        self.upstream = upstream.rstrip("/")
        self.client = client
        self.writer = writer
        self.started = time.perf_counter()
        self._seq = itertools.count(1)
        self.server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen; returns the address actually bound (port 0 picks a free one)."""
        self.server = await asyncio.start_server(self._connection, host, port)
        address = self.server.sockets[0].getsockname()
        return str(address[0]), int(address[1])

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    # one connection --------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_BODY)
        try:
            while True:
                request, body = await self._read_request(conn, reader)
                if request is None:
                    return
                for data in await self._exchange(conn, request, body):
                    writer.write(data)
                await writer.drain()
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (h11.ProtocolError, ConnectionError):
            return
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[h11.Request | None, bytes]:
        request: h11.Request | None = None
        chunks: list[bytes] = []
        size = 0
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(READ)
                conn.receive_data(data)
                if not data and request is None:
                    return None, b""
                continue
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_BODY:
                    raise h11.ProtocolError("request body too large")
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return request, b"".join(chunks)
            elif isinstance(event, h11.ConnectionClosed | h11.PAUSED):
                return None, b""

    async def _exchange(
        self, conn: h11.Connection, request: h11.Request, body: bytes
    ) -> list[bytes]:
        seq, at = next(self._seq), time.perf_counter() - self.started
        target = request.target.decode("latin-1")
        path, _, query = target.partition("?")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in request.headers
            if k.lower().decode("latin-1") not in HOP_BY_HOP and k.lower() != b"host"
        ]
        method = request.method.decode("ascii")
        url = self.upstream + path + (f"?{query}" if query else "")
        started, error = time.perf_counter(), None
        try:
            upstream = await self.client.request(method, url, headers=headers, content=body)
            status, raw = upstream.status_code, upstream.content
            answer = [
                (k, v) for k, v in upstream.headers.multi_items() if k.lower() not in HOP_BY_HOP
            ]
            # httpx has undone any content coding; the client gets the body as sent to us.
            answer = [(k, v) for k, v in answer if k.lower() != "content-encoding"]
        except httpx.HTTPError as failure:
            status, raw = 502, b""
            answer = [("content-type", "text/plain")]
            error = f"upstream unreachable: {type(failure).__name__}: {failure}"
            raw = error.encode()
        elapsed = time.perf_counter() - started
        request_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        response_type = next((v for k, v in answer if k.lower() == "content-type"), "")
        exchange = TraceExchange(
            seq=seq,
            at=at,
            method=method,
            path=path,
            status=status,
            query=parse_qsl(query, keep_blank_values=True),
            request_headers={k.lower(): v for k, v in headers},
            request_body=decode_body(body, request_type),
            response_headers={k.lower(): v for k, v in answer},
            response_body=decode_body(raw, response_type),
            elapsed=elapsed,
            kind=_kind(path, request_type),
            error=error,
        )
        self.writer.write(exchange)
        bodiless = method == "HEAD" or status in (204, 304)
        if not bodiless:
            answer.append(("content-length", str(len(raw))))
        out = [conn.send(h11.Response(status_code=status, headers=answer))]
        if raw and not bodiless:
            out.append(conn.send(h11.Data(data=raw)))
        out.append(conn.send(h11.EndOfMessage()))
        return [data for data in out if data]


async def record(
    host: str,
    port: int,
    upstream: str,
    out: Path,
    *,
    pseudonymise: bool = False,
    seconds: float | None = None,
    announce: Callable[[str], None] = print,
) -> int:
    """Serve the proxy until cancelled (Ctrl-C) or for ``seconds``; the exchanges written."""
    pseudonymiser = Pseudonymiser() if pseudonymise else None
    out.parent.mkdir(parents=True, exist_ok=True)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    with out.open("w", encoding="utf-8") as stream:
        writer = TraceWriter(stream, source="proxy", base=upstream, pseudonymiser=pseudonymiser)
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0), limits=limits) as client:
            proxy = RecordingProxy(upstream, client, writer)
            bound_host, bound_port = await proxy.start(host, port)
            announce(f"recording http://{bound_host}:{bound_port} -> {upstream} into {out}")
            try:
                if seconds is None:
                    await asyncio.Event().wait()
                else:
                    await asyncio.sleep(seconds)
            finally:
                await proxy.close()
    return writer.written
