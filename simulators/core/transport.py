"""A leaner socket layer under httpx for long simulator runs: plain asyncio streams.

httpx still builds and checks every request and response, and httpcore still speaks
HTTP/1.1, pools connections and does TLS; only the bytes-on-a-socket layer changes. The
default one (anyio) cost the 10,000-user initial sync about a sixth of the simulator's CPU:
every request asks each pooled connection "has the server hung up?", and anyio answers by
building a dict of socket attributes and calling ``getpeername`` each time; every read and
write also enters cancel scopes. Here the question is answered from the stream's own EOF
flag, and a request's head and body leave in one ``send`` (httpcore writes them separately:
two syscalls, and on loopback each one wakes the server).

Only ``scimlab simulate`` uses it (``lean_transport``); tests that inject their own client
(``ASGITransport``, respx, Litestar's test client) are unaffected.
"""

# The timeout parameters are httpcore's interface, not ours to replace with asyncio.timeout.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable

__all__ = ["AsyncioBackend", "AsyncioStream", "lean_transport"]

CLOSE_WAIT = 2.0  # seconds a closing connection may take to say goodbye


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One TCP (or TLS) connection as an asyncio reader/writer pair.

    Writes are held until the next read: httpcore always reads the response after writing
    a request, so holding them merges the head and the body into one ``send``.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._held: list[bytes] = []

    async def _flush(self, timeout: float | None) -> None:
        if not self._held:
            return
        data, self._held = b"".join(self._held), []
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(data)
                await self._writer.drain()
        except TimeoutError as error:
            raise httpcore.WriteTimeout(str(error)) from error
        except OSError as error:
            raise httpcore.WriteError(str(error)) from error

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await self._flush(timeout)
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError as error:
            raise httpcore.ReadTimeout(str(error)) from error
        except OSError as error:
            raise httpcore.ReadError(str(error)) from error

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            self._held.append(buffer)

    async def aclose(self) -> None:
        self._held = []
        self._writer.close()
        # A TLS peer that never answers close_notify must not hold the run up at the end.
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(CLOSE_WAIT):
                await self._writer.wait_closed()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        await self._flush(timeout)
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError as error:
            raise httpcore.ConnectTimeout(str(error)) from error
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # An idle connection is only ever readable because the server hung up, and the
            # event loop has already turned that into EOF on the reader: no syscall needed.
            return self._reader.at_eof() or self._writer.is_closing()
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info in ("client_addr", "server_addr"):
            return self._writer.get_extra_info("sockname" if info == "client_addr" else "peername")
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                # asyncio sets TCP_NODELAY on TCP connections itself.
                reader, writer = await asyncio.open_connection(host, port, local_addr=local)
        except TimeoutError as error:
            raise httpcore.ConnectTimeout(str(error)) from error
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        sock = writer.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(reader, writer)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        except TimeoutError as error:
            raise httpcore.ConnectTimeout(str(error)) from error
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def lean_transport(
    limits: httpx.Limits, *, verify: ssl.SSLContext | bool = True
) -> httpx.AsyncHTTPTransport:
    """httpx's transport with the asyncio socket layer; TLS verified as httpx does it."""
    transport = httpx.AsyncHTTPTransport(limits=limits, verify=verify)
    # httpx builds its pool without a way to pass a network backend; build the same pool
    # with ours (httpx reads ``_pool`` in every request; pinned by tests/simulators).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=verify),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=AsyncioBackend(),
    )
    return transport
