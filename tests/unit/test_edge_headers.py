"""The headers the edge adds to every response (``server.ops.edge``): what the app set stands."""

from __future__ import annotations

from typing import Any

import pytest

from server.ops.edge import EdgeMiddleware
from tests.unit.edge_exchange import through_edge

SECURITY = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"content-security-policy": b"frame-ancestors 'none'",
}


def _app(headers: list[tuple[bytes, bytes]]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


async def _headers(edge: EdgeMiddleware, path: str, offered: bytes = b"") -> list[Any]:
    request = [(b"x-request-id", offered)] if offered else []
    sent = await through_edge(edge, path, request)
    return list(sent[0]["headers"])


@pytest.mark.parametrize(
    ("path", "hsts", "no_store"),
    [
        ("/scim/v2/p/Users", False, True),
        ("/oauth/token", True, True),
        ("/console/login", False, True),
        ("/api/practices", True, True),
        ("/healthz", False, False),
        ("/favicon.ico", True, False),
    ],
)
async def test_every_response_gets_the_security_headers_once(
    path: str, hsts: bool, no_store: bool
) -> None:
    edge = EdgeMiddleware(_app([(b"etag", b'W/"1"')]), deadline_seconds=5, hsts=hsts)
    headers = await _headers(edge, path, offered=b"caller-id-0001")
    names = [name for name, _ in headers]
    assert len(names) == len(set(names))
    found = dict(headers)
    assert found[b"etag"] == b'W/"1"'
    assert found[b"x-request-id"] == b"caller-id-0001"
    assert {name: found.get(name) for name in SECURITY} == SECURITY
    assert found.get(b"cache-control") == (b"no-store" if no_store else None)
    assert (b"strict-transport-security" in found) is hsts


async def test_a_header_the_app_set_keeps_its_value() -> None:
    own = [(b"Cache-Control", b"private, max-age=5"), (b"x-frame-options", b"SAMEORIGIN")]
    edge = EdgeMiddleware(_app(own), deadline_seconds=5, hsts=False)
    headers = await _headers(edge, "/console/login")
    lowered = [(name.lower(), value) for name, value in headers]
    assert [v for n, v in lowered if n == b"cache-control"] == [b"private, max-age=5"]
    assert [v for n, v in lowered if n == b"x-frame-options"] == [b"SAMEORIGIN"]
    assert dict(lowered)[b"x-content-type-options"] == b"nosniff"
    assert len([n for n, _ in lowered if n == b"x-request-id"]) == 1
