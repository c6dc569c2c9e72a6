"""A scenario that sends what an IdP really sends must fail loudly on a misbehaving server.

Each test wraps our app in a small ASGI middleware that reproduces a bug real SCIM servers
have had (idp-behaviors §1.10, §2.10), runs the scenario through it, and checks that exactly
the expectations that bug breaks are reported, and no others.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import httpx
from litestar.testing import transport as litestar_transport

from simulators.core.registry import find_scenario, make_dialect
from simulators.core.runner import RunResult, Target, run_scenario
from tests.simulators.conftest import BASE, credentials_for

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tests.conftest import PracticeFixture

GUID = re.compile(r'userName eq "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"')
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


class Misbehaving:
    """Answers some requests itself (status, body) or rewrites their body, per ``rule``."""

    def __init__(self, app: Litestar, rule: Callable[[dict[str, Any], bytes], Any]) -> None:
        self.app, self.rule = app, rule

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        decision = self.rule(scope, body)
        if isinstance(decision, tuple):
            status, payload = decision
            content = json.dumps(payload).encode() if payload is not None else b""
            headers = [(b"content-type", b"application/scim+json")]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content})
            return
        if isinstance(decision, bytes):
            body = decision
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class _Via(httpx.AsyncBaseTransport):
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = await self.inner.handle_async_request(request)
        return response


class _Portal:
    """What ``TestClientTransport`` needs of a client: the app to call and the portal."""

    def __init__(self, client: AsyncTestClient[Any], app: Misbehaving) -> None:
        self.app = app
        self.portal = client.portal


async def _run(
    name: str,
    idp: str,
    app: Litestar,
    rule: Any,
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
) -> RunResult:
    scenario = find_scenario(name)
    kind = {"entra": "oauth", "okta": "basic"}[idp]
    credentials = await credentials_for(kind, client, practice)
    # Requests reach the wrapped app through the test client's portal, so the app keeps
    # running in the event loop that owns its database pool.
    inner = litestar_transport.TestClientTransport(_Portal(client, Misbehaving(app, rule)))
    async with httpx.AsyncClient(transport=_Via(inner), base_url=BASE) as wrapped:
        target = Target(f"{BASE}{practice.scim_path}", wrapped, credentials)
        return await run_scenario(scenario, make_dialect(idp, scenario.variants), target)


def _failed(result: RunResult) -> set[str]:
    assert result.error is None, result.error
    return {r.id for r in result.results if r.status == "failed"}


def _query(scope: dict[str, Any]) -> str:
    return str(httpx.QueryParams(scope["query_string"].decode()).get("filter", ""))


async def test_a_404_to_the_test_connection_filter_is_reported(
    app: Litestar, client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    def rule(scope: dict[str, Any], _body: bytes) -> Any:
        if scope["method"] == "GET" and GUID.fullmatch(_query(scope)):
            return 404, {"schemas": [ERROR], "status": "404", "detail": "no such user"}
        return None

    result = await _run("E-01", "entra", app, rule, client, practice)
    assert _failed(result) == {"E-01.users-probe", "E-01.not-quarantine-worthy"}
    assert result.connections[0].quarantine_worthy


async def test_a_member_removal_that_empties_the_group_is_reported(
    app: Litestar, client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    def rule(scope: dict[str, Any], body: bytes) -> Any:
        if scope["method"] == "PATCH" and "/Groups/" in scope["path"]:
            operations = json.loads(body)["Operations"]
            if any(op["op"].lower() == "remove" for op in operations):  # "remove all" bug
                emptied = [{"op": "replace", "path": "members", "value": []}]
                return json.dumps({**json.loads(body), "Operations": emptied}).encode()
        return None

    result = await _run("E-10", "entra", app, rule, client, practice)
    assert _failed(result) == {"E-10.one-member-left"}
    detail = next(r.detail for r in result.results if r.id == "E-10.one-member-left")
    assert "members []" in detail


async def test_a_server_that_rejects_string_booleans_is_reported(
    app: Litestar, client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    def rule(scope: dict[str, Any], body: bytes) -> Any:
        if scope["method"] == "PATCH" and b'"value": "False"' in body:
            return 400, {
                "schemas": [ERROR],
                "status": "400",
                "scimType": "invalidValue",
                "detail": "active must be a boolean",
            }
        return None

    result = await _run("E-04", "entra", app, rule, client, practice)
    assert _failed(result) == {"E-04.deactivated", "E-04.inactive-by-id", "E-04.inactive-by-filter"}


async def test_a_server_that_ignores_pathless_patches_is_reported(
    app: Litestar, client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    def rule(scope: dict[str, Any], body: bytes) -> Any:
        if scope["method"] == "PATCH" and all(
            "path" not in op for op in json.loads(body)["Operations"]
        ):
            return 204, None  # "success", nothing applied
        return None

    result = await _run("O-05", "okta", app, rule, client, practice)
    assert _failed(result) == {"O-05.inactive"}
