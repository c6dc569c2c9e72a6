"""Under concurrent cycles: the bounded worker pool, the lean transport, the bench row."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
from types import SimpleNamespace
from typing import TYPE_CHECKING

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from loadtests.bench.initial_sync import entra_initial_sync
from simulators.core.expectations import no_server_errors
from simulators.core.recorder import Recorder
from simulators.core.registry import make_dialect
from simulators.core.transport import lean_transport
from simulators.core.workers import bounded, in_order, split_at
from tests.conftest import POSTGRES_URL

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize("limit", [1, 2, 5])
async def test_bounded_keeps_input_order_and_the_limit(limit: int) -> None:
    running = peak = 0

    async def work(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001 * (n % 3))  # finish out of order
        running -= 1
        return n * 10

    assert await bounded(range(12), limit, work) == [n * 10 for n in range(12)]
    assert peak == limit


async def test_bounded_raises_the_first_error_itself_and_starts_nothing_after_it() -> None:
    started: list[int] = []

    async def work(n: int) -> int:
        started.append(n)
        await asyncio.sleep(0)
        if n == 2:
            raise KeyError(n)
        return n

    with pytest.raises(KeyError):
        await bounded(range(50), 3, work)
    assert len(started) < 10


def test_split_at_and_in_order() -> None:
    keys = ["a", "b", "c", "d"]
    assert split_at(keys, 0, 2) == [["a", "b"], ["c", "d"]]
    assert split_at(keys, 10, 12) == [["a", "b"], ["c", "d"]]
    assert split_at(keys, 0, 0) == [keys]  # at the start: one part, nothing before it
    assert split_at(keys, 0, 4) == [keys]  # after the last: never reached
    assert split_at([], 0, 0) == []
    rank = {"b": 0, "a": 1}
    assert list(in_order({"a": 1, "x": 2, "b": 3}, rank)) == ["x", "b", "a"]


def test_entra_runs_objects_in_parallel_by_default_and_okta_google_do_not() -> None:
    assert make_dialect("entra").concurrency > 1  # idp-behaviors §1.7
    assert make_dialect("okta").concurrency == 1
    assert make_dialect("google").concurrency == 1


async def test_lean_transport_reuses_connections_and_survives_a_server_hang_up() -> None:
    """Keep-alive: one connection for many requests; when the server closes an idle one,
    the next request opens a new connection instead of failing on the dead one."""
    connections: list[int] = []
    bodies: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections))
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                bodies.append(body)
                reply = b'{"ok": true}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + b"Content-Length: %d\r\n\r\n" % len(reply)
                    + reply
                )
                await writer.drain()
                if body == b"bye":  # hang up without saying so in the response
                    break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        transport = lean_transport(httpx.Limits(max_connections=4))
        async with httpx.AsyncClient(transport=transport) as client:
            url = f"http://127.0.0.1:{port}/x"
            for n in range(3):
                response = await client.post(url, content=f"n{n}".encode())
                assert response.json() == {"ok": True}
            assert len(connections) == 1
            await client.post(url, content=b"bye")
            await asyncio.sleep(0.05)  # the hang-up reaches the client's event loop
            after = await client.post(url, content=b"again")
            assert after.status_code == 200
    finally:
        server.close()
        await server.wait_closed()
    assert len(connections) == 2
    assert bodies == [b"n0", b"n1", b"n2", b"bye", b"again"]


@pytest.mark.socket
async def test_the_initial_sync_bench_reports_its_concurrency() -> None:
    row = await entra_initial_sync(40, "sqlite", POSTGRES_URL, concurrency=3)
    assert row["passed"], row.get("tail")
    assert row["concurrency"] == 3
    assert row["users"] == 40


def test_server_errors_are_listed_by_object_not_by_arrival() -> None:
    recorder = Recorder()
    for subject in ("user:b", "user:a"):  # b's answer arrived first
        url = "http://target/scim/v2/p/Users"
        recorder.record(
            at=0.0, label="user.create", method="POST", url=url, status=500, subject=subject
        )
    run = SimpleNamespace(recorder=recorder, scenario=SimpleNamespace(name="s", balancer=False))
    verdict = no_server_errors(run)  # type: ignore[arg-type]
    assert verdict.status == "failed"
    assert verdict.detail.index("#2 ") < verdict.detail.index("#1 ")  # a before b


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (PEM cert, PEM key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_lean_transport_speaks_tls_and_verifies_the_server(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=served)
    url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    try:
        trusted = ssl.create_default_context(cafile=str(cert))
        transport = lean_transport(httpx.Limits(max_connections=2), verify=trusted)
        async with httpx.AsyncClient(transport=transport) as client:
            assert [(await client.get(url)).text for _ in range(2)] == ["ok", "ok"]
        untrusted = lean_transport(httpx.Limits(max_connections=2))  # the system's CAs only
        async with httpx.AsyncClient(transport=untrusted) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(url)
    finally:
        server.close()
        await server.wait_closed()
