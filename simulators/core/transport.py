"""A lean HTTP/1.1 transport under httpx for long simulator runs: plain asyncio streams.

httpx still builds every request (URL, headers, auth flow, cookies) and every response
(decoding, ``json()``); only the transport changes, through httpx's public transport API
(``AsyncBaseTransport.handle_async_request``). httpx's default one (httpcore with h11 on
anyio) was most of the simulator's CPU in a 10,000-user initial sync: for every request the
pool scans each connection for idleness and expiry, h11 runs its state machine and validates
each header again, and anyio enters cancel scopes on every read and write. A simulator sends
plain requests to one server over a few keep-alive connections, so this one does only that:

* a pool per origin (scheme, host, port) of at most ``max_connections`` connections, the idle
  ones reused last-in first-out; one that the server hung up on (EOF seen by the event loop)
  is dropped instead of reused, and a request that finds its reused connection dead before
  any byte of the answer arrives is sent once more on a new one (nothing was processed);
* the request's head and body leave in one write (one ``send``, one wake-up of the server);
* the answer's head is read in one ``readuntil``; the body by ``Content-Length``, by chunks,
  or to the end of the connection, as RFC 9112 §6.3 orders them; ``Connection: close`` and
  bodies read to the end are not reused;
* TLS with the same verification as httpx (``httpx.create_ssl_context``).

Header names and values are checked for CR and LF before they are written (no request
smuggling from a scenario file). Only ``scimlab simulate`` and ``simulate replay`` use it;
tests that inject their own client (``ASGITransport``, respx, Litestar's test client) do not.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
from collections import deque
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    import ssl

__all__ = ["LeanTransport", "NoCookies", "lean_transport"]

CLOSE_WAIT = 2.0  # seconds a closing connection may take to say goodbye
_NO_BODY_STATUSES = frozenset({204, 304})
_FRAMING = frozenset({b"content-length", b"transfer-encoding"})

Origin = tuple[str, str, int]


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @property
    def alive(self) -> bool:
        """An idle connection is only ever readable because the server hung up, and the
        event loop has already turned that into EOF on the reader: no syscall needed."""
        return not (self.reader.at_eof() or self.writer.is_closing())

    async def close(self) -> None:
        self.writer.close()
        # A TLS peer that never answers close_notify must not hold the run up at the end.
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(CLOSE_WAIT):
                await self.writer.wait_closed()


class _Dead(Exception):
    """A reused connection closed before any byte of the answer: safe to send again."""


def _head(request: httpx.Request, body: bytes) -> bytes:
    url = request.url
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), url.raw_path)]
    framed = False
    for name, value in request.headers.raw:
        if b"\r" in name or b"\n" in name or b"\r" in value or b"\n" in value:
            raise httpx.LocalProtocolError(f"illegal header {name!r}: CR or LF in it")
        if name.lower() in _FRAMING:
            framed = True  # the body is buffered: always sent with its length
            continue
        lines.append(name + b": " + value)
    if framed or body:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _parse_head(head: bytes) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
    """Status, reason, HTTP version and headers of a response head (ending in CRLF CRLF)."""
    status_line, *lines = head[:-4].split(b"\r\n")
    try:
        version, code, *reason = status_line.split(b" ", 2)
        status = int(code)
    except ValueError:
        raise httpx.RemoteProtocolError(f"malformed status line {status_line[:80]!r}") from None
    if not version.startswith(b"HTTP/1.") or not 100 <= status <= 999:
        raise httpx.RemoteProtocolError(f"malformed status line {status_line[:80]!r}")
    headers = []
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise httpx.RemoteProtocolError(f"malformed header line {line[:80]!r}")
        headers.append((name, value.strip()))
    return status, reason[0] if reason else b"", version, headers


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise httpx.RemoteProtocolError(f"malformed chunk size {size_line[:40]!r}") from None
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, ignored
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise httpx.RemoteProtocolError("chunk not followed by CRLF")


class NoCookies(http.cookiejar.CookieJar):
    """A cookie jar that keeps nothing (``httpx.AsyncClient(cookies=NoCookies())``): identity
    providers send SCIM requests without cookies, and httpx would otherwise copy every
    answer's headers into an ``email.message.Message`` to look for ``Set-Cookie``."""

    def extract_cookies(self, response: object, request: object) -> None:
        return None


class LeanTransport(httpx.AsyncBaseTransport):
    def __init__(self, limits: httpx.Limits, *, verify: ssl.SSLContext | bool = True) -> None:
        self._verify = verify
        self._ssl: ssl.SSLContext | None = None
        self._max = limits.max_connections or 100
        self._keep = limits.max_keepalive_connections or self._max
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._open = 0
        self._freed = asyncio.Condition()
        self._busy: set[_Connection] = set()

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            verify = self._verify
            self._ssl = verify if not isinstance(verify, bool) else httpx.create_ssl_context(verify)
        return self._ssl

    async def _connect(self, origin: Origin, seconds: float | None) -> _Connection:
        scheme, host, port = origin
        ssl_context = self._context() if scheme == "https" else None
        try:
            async with asyncio.timeout(seconds):
                # asyncio sets TCP_NODELAY on TCP connections itself.
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=ssl_context, limit=2**20
                )
        except TimeoutError as error:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from error
        except OSError as error:
            raise httpx.ConnectError(str(error)) from error
        return _Connection(reader, writer)

    async def _acquire(self, origin: Origin, seconds: float | None) -> tuple[_Connection, bool]:
        """A live idle connection to ``origin`` (reused: True) or a new one."""
        idle = self._idle.setdefault(origin, deque())
        while idle:
            connection = idle.pop()
            if connection.alive:
                return connection, True
            self._open -= 1
            await connection.close()
        if self._open >= self._max:
            spare = next((other for other in self._idle.values() if other), None)
            if spare is not None:  # room for this origin: an idle one of another goes
                self._open -= 1
                await spare.popleft().close()
                return await self._acquire(origin, seconds)
            async with self._freed:
                await self._freed.wait_for(lambda: self._open < self._max or bool(idle))
            return await self._acquire(origin, seconds)
        self._open += 1
        try:
            return await self._connect(origin, seconds), False
        except BaseException:
            self._open -= 1
            raise

    async def _release(self, origin: Origin, connection: _Connection, reusable: bool) -> None:
        idle = self._idle.setdefault(origin, deque())
        if reusable and connection.alive and len(idle) < self._keep:
            idle.append(connection)
        else:
            self._open -= 1
            await connection.close()
        async with self._freed:
            self._freed.notify()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {url.scheme!r}")
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeouts = request.extensions.get("timeout", {})
        body = await request.aread()
        data = _head(request, body) + body
        for _ in range(2):
            connection, reused = await self._acquire(origin, timeouts.get("connect"))
            self._busy.add(connection)
            reusable = False
            try:
                response, reusable = await self._exchange(
                    connection, request, data, reused, timeouts.get("read")
                )
            except _Dead:
                continue
            finally:
                self._busy.discard(connection)
                await self._release(origin, connection, reusable)
            return response
        raise httpx.RemoteProtocolError("the server closed the connection without an answer")

    async def _exchange(
        self,
        connection: _Connection,
        request: httpx.Request,
        data: bytes,
        reused: bool,
        seconds: float | None,
    ) -> tuple[httpx.Response, bool]:
        reader, writer = connection.reader, connection.writer
        try:
            writer.write(data)
            async with asyncio.timeout(seconds):
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                status, reason, version, headers = _parse_head(head)
                while 100 <= status < 200 and status != 101:  # interim answers come first
                    head = await reader.readuntil(b"\r\n\r\n")
                    status, reason, version, headers = _parse_head(head)
                content, reusable = await self._body(reader, request, status, version, headers)
        except TimeoutError as error:
            raise httpx.ReadTimeout("no complete answer in time") from error
        except asyncio.IncompleteReadError as error:
            if reused and not error.partial:
                raise _Dead from error
            raise httpx.RemoteProtocolError(
                "the server closed the connection mid-answer"
            ) from error
        except asyncio.LimitOverrunError as error:
            raise httpx.RemoteProtocolError("an answer's head or chunk line is too long") from error
        except ConnectionError as error:
            if reused:
                raise _Dead from error
            raise httpx.ReadError(str(error)) from error
        except OSError as error:
            raise httpx.ReadError(str(error)) from error
        response = httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(content),
            extensions={"http_version": version, "reason_phrase": reason},
        )
        return response, reusable

    @staticmethod
    async def _body(
        reader: asyncio.StreamReader,
        request: httpx.Request,
        status: int,
        version: bytes,
        headers: list[tuple[bytes, bytes]],
    ) -> tuple[bytes, bool]:
        """The answer's body and whether the connection may carry another request."""
        length: bytes | None = None
        chunked = False
        keep = version == b"HTTP/1.1"
        for name, value in headers:
            lower = name.lower()
            if lower == b"content-length":
                length = value
            elif lower == b"transfer-encoding":
                chunked = value.lower().endswith(b"chunked")
            elif lower == b"connection":
                tokens = {t.strip() for t in value.lower().split(b",")}
                keep = b"keep-alive" in tokens if not keep else b"close" not in tokens
        if request.method == "HEAD" or status in _NO_BODY_STATUSES:
            return b"", keep
        if chunked:
            return await _chunked(reader), keep
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                raise httpx.RemoteProtocolError(f"bad Content-Length {length[:20]!r}") from None
            return await reader.readexactly(size), keep
        return await reader.read(), False  # to the end of the connection

    async def aclose(self) -> None:
        connections = [c for idle in self._idle.values() for c in idle] + list(self._busy)
        self._idle.clear()
        self._busy.clear()
        self._open = 0
        for connection in connections:
            await connection.close()


def lean_transport(limits: httpx.Limits, *, verify: ssl.SSLContext | bool = True) -> LeanTransport:
    """The simulators' transport, with at most ``limits.max_connections`` connections."""
    return LeanTransport(limits, verify=verify)
