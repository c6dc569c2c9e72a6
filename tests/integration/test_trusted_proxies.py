"""Behind a load balancer (issue 29 item 6): the client address that the throttles, the access
log and the audit log use comes from ``X-Forwarded-For`` / ``Forwarded`` only when the peer
is a trusted proxy (``SCIMLAB_TRUSTED_PROXIES``).

Requests are sent to the whole app (edge, rate limits, handlers, store) through the test
client's event loop, with a scope whose peer is the proxy's address."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.ops.access_log import ACCESS_LOGGER, AccessLog
from server.ops.edge import EdgeMiddleware
from server.ops.recording import TrafficRecorder
from server.services import Services
from server.settings import Settings
from tests.conftest import PUBLIC_URL, TEST_SECRET_KEY, UNLIMITED

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from litestar import Litestar

    from server.persistence.store import PiccoloStore

PROXY = "10.0.0.5"


async def _asgi(
    client: AsyncTestClient[Litestar],
    peer: str,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    body: bytes = b"",
) -> int:
    """One request from ``peer`` to the app; its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"scimlab.test"),
            *((name.lower().encode(), value.encode()) for name, value in headers),
        ],
        "client": (peer, 40000),
        "server": ("scimlab.test", 80),
    }
    sent: list[dict[str, Any]] = []
    state: dict[str, Any] = {"body_sent": False, "done": None}

    async def receive() -> dict[str, Any]:
        if not state["body_sent"]:
            state["body_sent"] = True
            return {"type": "http.request", "body": body, "more_body": False}
        if state["done"] is None:
            state["done"] = asyncio.Event()
        await state["done"].wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            if state["done"] is None:
                state["done"] = asyncio.Event()
            state["done"].set()

    client.blocking_portal.call(client.app, scope, receive, send)
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))


@pytest.fixture
def access_lines() -> Iterator[io.StringIO]:
    logger = logging.getLogger(ACCESS_LOGGER)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield io.StringIO()
    logger.setLevel(previous)


@asynccontextmanager
async def _app_behind(trusted: str, database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app trusting ``trusted``, with a failure throttle of 2 that barely refills."""
    limits = {**UNLIMITED, "failed_auth_burst": 2, "failed_auth_rate_limit": 0.001}
    settings = Settings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        secret_key=TEST_SECRET_KEY,
        rate_limit_store="memory",
        trusted_proxies=(trusted,),
        **limits,
    )
    async with AsyncTestClient(app=create_app(settings), base_url=PUBLIC_URL) as client:
        yield client


@pytest.mark.parametrize(
    ("trusted", "header", "template", "clients", "believed"),
    [
        ("10.0.0.0/8", "X-Forwarded-For", "192.0.2.9, {}", ("203.0.113.1", "203.0.113.2"), True),
        (
            "10.0.0.5",
            "Forwarded",
            'for="{}:4711";proto=https',
            ("198.51.100.1", "198.51.100.2"),
            True,
        ),
        ("10.0.0.5", "Forwarded", 'for="[{}]:4711"', ("2001:db8::1", "2001:db8::2"), True),
        ("192.0.2.0/24", "X-Forwarded-For", "{}", ("203.0.113.1", "203.0.113.2"), False),
        ("192.0.2.0/24", "Forwarded", "for={}", ("198.51.100.1", "198.51.100.2"), False),
    ],
    ids=[
        "xff-trusted",
        "forwarded-trusted",
        "forwarded-ipv6-trusted",
        "xff-untrusted",
        "fw-untrusted",
    ],
)
async def test_forwarded_clients_are_believed_only_from_trusted_proxies(
    database_url: str,
    store: PiccoloStore,
    settings: Settings,
    access_lines: io.StringIO,
    trusted: str,
    header: str,
    template: str,
    clients: tuple[str, str],
    believed: bool,
) -> None:
    """The proxy at 10.0.0.5 names two clients in turn; the server uses them as the source
    address only when it trusts the proxy, else the proxy's own address."""
    expected = clients if believed else (PROXY, PROXY)
    services = Services.build(store, settings)
    created = await services.practices.create_practice(
        f"Proxied {uuid.uuid4().hex[:6]}", actor="test"
    )
    await services.practices.enable(created.practice.id, actor="test")
    bad = f"grant_type=client_credentials&client_id=x-{uuid.uuid4().hex[:6]}&client_secret=x"

    async def token_request(client: AsyncTestClient[Litestar], named: str) -> int:
        headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            (header, template.format(named)),
        ]
        return await _asgi(client, PROXY, "POST", "/oauth/token", headers, bad.encode())

    async with _app_behind(trusted, database_url) as client:
        edge = client.app.asgi_handler
        if isinstance(edge, TrafficRecorder):  # the recorder wraps the edge (idle here)
            edge = edge.app
        assert isinstance(edge, EdgeMiddleware)
        edge.access = log = AccessLog(access_lines)

        # The throttle: three failures of the first client use up its bucket (2) ...
        assert [await token_request(client, clients[0]) for _ in range(3)] == [401, 401, 429]
        # ... which is the second client's too only if both are the proxy's address.
        assert await token_request(client, clients[1]) == (401 if believed else 429)

        # The audit log: where the static token was created from.
        issued = await _asgi(
            client,
            PROXY,
            "POST",
            f"/api/v1/practices/{created.practice.id}/scim/tokens",
            [
                ("Authorization", f"Bearer {created.admin_api_key}"),
                (header, template.format(clients[0])),
            ],
        )
        assert issued in {200, 201}
        log.close()

    audit = await store.audit.list(created.practice.id, limit=10)
    [entry] = [e for e in audit if e.action == "scim.static_token_created"]
    assert entry.address == expected[0]
    lines = [json.loads(line) for line in access_lines.getvalue().splitlines()]
    logged = [line["client"] for line in lines if line["path"] == "/oauth/token"]
    assert logged == [expected[0]] * 3 + [expected[1]]
