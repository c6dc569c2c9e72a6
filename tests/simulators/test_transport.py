"""The simulators' HTTP/1.1 transport (``simulators/core/transport.py``) against a raw
asyncio server: body framing (length, chunks, to the end), keep-alive and ``Connection:
close``, a connection the server dropped, the pool bound, and headers that would split."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest

from simulators.core.transport import NoCookies, lean_transport

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


Reply = Callable[[bytes, bytes], bytes]  # (request head, body) -> the bytes to answer


@contextlib.asynccontextmanager
async def _server(reply: Reply, seen: list[int]) -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(len(seen))
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                answer = reply(head, body)
                writer.write(answer)
                await writer.drain()
                if b"connection: close" in answer.lower() or answer.endswith(b"all of it"):
                    break  # as announced, or the body ends with the connection
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def test_bodies_by_length_by_chunks_and_to_the_end() -> None:
    answers = {
        b"/length": b'HTTP/1.1 201 Created\r\nContent-Length: 7\r\nX-A: 1\r\n\r\n{"a":1}',
        b"/chunks": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'3\r\n{"b\r\n4;ext=1\r\n":2}\r\n0\r\nTrailer: x\r\n\r\n',
        b"/end": b"HTTP/1.1 200 OK\r\n\r\nall of it",
        b"/none": b"HTTP/1.1 204 No Content\r\n\r\n",
    }
    seen: list[int] = []

    def reply(head: bytes, body: bytes) -> bytes:
        return answers[head.split(b" ")[1]]

    async with (
        _server(reply, seen) as url,
        httpx.AsyncClient(transport=lean_transport(httpx.Limits(max_connections=2))) as client,
    ):
        first = await client.post(f"{url}/length", json={"x": 1})
        assert (first.status_code, first.json(), first.headers["x-a"]) == (201, {"a": 1}, "1")
        assert first.reason_phrase == "Created"
        assert (await client.get(f"{url}/chunks")).json() == {"b": 2}
        assert (await client.delete(f"{url}/none")).content == b""
        assert len(seen) == 1  # kept alive through length, chunks and no body
        assert (await client.get(f"{url}/end")).text == "all of it"
        assert (await client.get(f"{url}/length")).status_code == 201
    assert len(seen) == 2  # the body read to the end closed the first connection


async def test_connection_close_and_a_dropped_connection_are_not_reused() -> None:
    seen: list[int] = []

    def reply(head: bytes, body: bytes) -> bytes:
        if body == b"close":
            return b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    async with (
        _server(reply, seen) as url,
        httpx.AsyncClient(transport=lean_transport(httpx.Limits(max_connections=1))) as client,
    ):
        assert (await client.post(url, content=b"a")).text == "ok"
        assert (await client.post(url, content=b"close")).text == "ok"
        assert (await client.post(url, content=b"b")).text == "ok"
    assert len(seen) == 2


async def test_the_pool_holds_at_most_max_connections() -> None:
    seen: list[int] = []
    in_flight, peak = [0], [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(1)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                await reader.readuntil(b"\r\n\r\n")
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
                await asyncio.sleep(0.01)
                in_flight[0] -= 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    try:
        transport = lean_transport(httpx.Limits(max_connections=3))
        async with httpx.AsyncClient(transport=transport) as client:
            answers = await asyncio.gather(*(client.get(url) for _ in range(12)))
    finally:
        server.close()
        await server.wait_closed()
    assert {a.status_code for a in answers} == {200}
    assert len(seen) == 3
    assert peak[0] <= 3


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\rb"])
async def test_a_header_that_would_split_the_request_is_refused(value: str) -> None:
    request = httpx.Request("GET", "http://127.0.0.1:9/", headers={"X-Name": "x"})
    request.headers["X-Name"] = value
    transport = lean_transport(httpx.Limits(max_connections=1))
    with pytest.raises(httpx.LocalProtocolError):
        await transport.handle_async_request(request)
    await transport.aclose()


async def test_a_malformed_answer_is_a_protocol_error() -> None:
    seen: list[int] = []
    async with (
        _server(lambda head, body: b"SPDY/3 200 OK\r\nContent-Length: 0\r\n\r\n", seen) as url,
        httpx.AsyncClient(transport=lean_transport(httpx.Limits(max_connections=1))) as client,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(url)


async def test_the_simulators_client_keeps_no_cookies() -> None:
    seen: list[int] = []

    def reply(head: bytes, body: bytes) -> bytes:
        assert b"cookie:" not in head.lower()  # nothing set earlier is sent back
        return b"HTTP/1.1 200 OK\r\nSet-Cookie: s=1; Path=/\r\nContent-Length: 2\r\n\r\nok"

    transport = lean_transport(httpx.Limits(max_connections=1))
    cookies = NoCookies()
    async with (
        _server(reply, seen) as url,
        httpx.AsyncClient(transport=transport, cookies=cookies) as client,
    ):
        assert [(await client.get(url)).text for _ in range(2)] == ["ok", "ok"]
        assert len(client.cookies) == 0
