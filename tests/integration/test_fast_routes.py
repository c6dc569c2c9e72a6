"""Each SCIM operation on Users and Groups has one implementation (``server.scim.operations``),
reached two ways: the edge's fast routes (``server.ops.dispatch``) for every request whose
path they match, and the Litestar handlers for the rest (a path the router first converts
or normalises). Both give the same answer; a layer the fast routes would not run stops the
app from starting; the middleware they do run (metrics, rate limits) counts them.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from litestar.di import Provide
from prometheus_client import REGISTRY

import server.scim.groups
import server.scim.users
from server.app import create_app
from server.ops.dispatch import FastRoute, RouteDispatch, RouteRefused
from server.ops.ratelimit import RateLimitMiddleware
from server.scim.groups import GroupsController
from server.scim.users import UsersController
from tests.conftest import PracticeFixture, bearer_headers

if TYPE_CHECKING:
    from litestar import Request
    from litestar.testing import AsyncTestClient

    from server.settings import Settings

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
READ_ROUTE = "/scim/v2/{practice_id}/Users/{user_id}"


@pytest.fixture
async def headers(client: AsyncTestClient[Any], practice: PracticeFixture) -> dict[str, str]:
    return await bearer_headers(client, practice)


@pytest.fixture
def handled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every request a Litestar handler of /Users or /Groups answers from here on."""
    seen: list[str] = []
    for module in (server.scim.users, server.scim.groups):
        respond = module.respond

        async def spy(
            operation: Any, request: Request[Any, Any, Any], services: Any, respond: Any = respond
        ) -> Any:
            seen.append(f"{request.method} {request.url.path}")
            return await respond(operation, request, services)

        monkeypatch.setattr(module, "respond", spy)
    return seen


async def _user(client: AsyncTestClient[Any], practice: PracticeFixture, headers: Any) -> str:
    body = {"schemas": [USER_SCHEMA], "userName": f"fast.{uuid.uuid4().hex[:8]}@example.org"}
    created = await client.post(f"{practice.scim_path}/Users", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _group(client: AsyncTestClient[Any], practice: PracticeFixture, headers: Any) -> str:
    body = {"schemas": [GROUP_SCHEMA], "displayName": f"Fast {uuid.uuid4().hex[:8]}"}
    created = await client.post(f"{practice.scim_path}/Groups", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


REQUESTS = [
    ("GET", "/Users/{user}", {}, None, 200),
    ("GET", "/Users/{user}?attributes=userName", {}, None, 200),
    ("GET", "/Users/{user}", {"If-None-Match": "*"}, None, 304),
    ("GET", "/Users/{user}", {"Prefer": "return=minimal"}, None, 204),
    ("GET", "/Users/{user}", {"Authorization": "Basic YTpi"}, None, 401),
    ("GET", "/Users?filter=userName%20sw%20%22fast%22&excludedAttributes=groups", {}, None, 200),
    ("POST", "/Users/.search", {}, {"schemas": [SEARCH_SCHEMA], "count": 1}, 200),
    ("PATCH", "/Users/{user}", {"If-Match": 'W/"9"'}, {"schemas": [PATCH_SCHEMA]}, 400),
    ("PUT", "/Users/{unknown}", {}, {"schemas": [USER_SCHEMA], "userName": "x@y.org"}, 404),
    ("DELETE", "/Users/{unknown}", {}, None, 404),
    ("GET", "/Groups/{group}?excludedAttributes=members", {}, None, 200),
    ("GET", "/Groups/{unknown}", {}, None, 404),
]


@pytest.mark.parametrize(
    ("method", "suffix", "extra", "body", "status"),
    REQUESTS,
    ids=[f"{m} {s.split('?')[0]} {st}" for m, s, _, _, st in REQUESTS],
)
async def test_every_request_of_a_fast_route_takes_it_and_answers_as_the_handler(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    handled: list[str],
    method: str,
    suffix: str,
    extra: dict[str, str],
    body: Any,
    status: int,
) -> None:
    user_id = await _user(client, practice, headers)
    group_id = await _group(client, practice, headers)
    path = suffix.format(user=user_id, group=group_id, unknown=uuid.uuid4())
    sent = {**headers, **extra}
    handled.clear()
    fast = await client.request(method, practice.scim_path + path, headers=sent, json=body)
    assert (fast.status_code, handled) == (status, []), fast.text
    # The router converts a compact practice id; the Litestar handler answers it alike.
    compact = f"/scim/v2/{uuid.UUID(practice.id).hex}"
    routed = await client.request(method, compact + path, headers=sent, json=body)
    assert len(handled) == 1
    assert routed.status_code == fast.status_code
    ignored = {"x-request-id", "date"}
    assert {k: v for k, v in routed.headers.items() if k not in ignored} == {
        k: v for k, v in fast.headers.items() if k not in ignored
    }
    ids = fast.headers["x-request-id"], routed.headers["x-request-id"]
    assert routed.content.replace(ids[1].encode(), b"ID") == fast.content.replace(
        ids[0].encode(), b"ID"
    )


async def test_a_body_over_the_limit_is_refused_alike_both_ways(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    settings: Settings,
    handled: list[str],
) -> None:
    big = {"schemas": [USER_SCHEMA], "userName": "x" * settings.max_body_bytes}
    fast = await client.post(f"{practice.scim_path}/Users", json=big, headers=headers)
    assert (fast.status_code, handled) == (413, [])
    compact = f"/scim/v2/{uuid.UUID(practice.id).hex}/Users"
    routed = await client.post(compact, json=big, headers=headers)
    assert routed.status_code == 413
    assert len(handled) == 1
    ids = fast.headers["x-request-id"], routed.headers["x-request-id"]
    assert fast.text.replace(ids[0], "ID") == routed.text.replace(ids[1], "ID")


async def test_a_bad_host_header_is_refused_as_the_router_refuses_it(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str]
) -> None:
    user_id = await _user(client, practice, headers)
    path = f"{practice.scim_path}/Users/{user_id}"
    response = await client.get(path, headers={**headers, "Host": "bad host"})
    assert response.status_code == 400
    assert (await client.get(path, headers=headers)).status_code == 200


async def test_a_failure_around_an_operation_is_answered_as_the_router_answers_it(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user_id = await _user(client, practice, headers)

    async def broken(*_: object) -> None:
        msg = "the bucket store broke"
        raise RuntimeError(msg)

    monkeypatch.setattr(RateLimitMiddleware, "admit", broken)
    fast = await client.get(f"{practice.scim_path}/Users/{user_id}", headers=headers)
    compact = f"/scim/v2/{uuid.UUID(practice.id).hex}/Users/{user_id}"
    routed = await client.get(compact, headers=headers)
    assert fast.status_code == routed.status_code == 500
    assert "broke" not in fast.text
    ids = fast.headers["x-request-id"], routed.headers["x-request-id"]
    assert ids[0] in fast.text
    assert fast.text.replace(ids[0], "ID") == routed.text.replace(ids[1], "ID")


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"app_name": "scimlab", **labels}) or 0.0


async def test_fast_requests_are_counted_per_route_status_and_practice(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str]
) -> None:
    user_id = await _user(client, practice, headers)
    labels = {"method": "GET", "path": READ_ROUTE}
    cases = [("200", practice.id), ("404", practice.id), ("401", "-")]

    def counts() -> dict[str, float]:
        return {
            status: _count("scimlab_requests_total", **labels, status_code=status, practice=label)
            for status, label in cases
        }

    before = counts()
    path = f"{practice.scim_path}/Users"
    for _ in range(2):
        assert (await client.get(f"{path}/{user_id}", headers=headers)).status_code == 200
    assert (await client.get(f"{path}/{uuid.uuid4()}", headers=headers)).status_code == 404
    forged = {"Authorization": "Bearer forged"}
    assert (await client.get(f"{path}/{user_id}", headers=forged)).status_code == 401
    after = counts()
    assert {k: after[k] - before[k] for k in after} == {"200": 2.0, "404": 1.0, "401": 1.0}
    in_progress = {"method": "GET", "path": READ_ROUTE, "status_code": "200", "practice": "-"}
    assert _count("scimlab_requests_in_progress", **in_progress) == 0.0


# --- what the fast routes would not run stops the app from starting ----------------------------


def _deny(*_: object) -> None:
    return None


async def _hook(*_: object) -> None:
    return None


@pytest.mark.parametrize(
    ("controller", "attribute", "value", "said"),
    [
        (UsersController, "guards", [_deny], "a guard"),
        (GroupsController, "guards", [_deny], "a guard"),
        (UsersController, "before_request", _hook, "a before_request hook"),
        (UsersController, "after_request", _hook, "a after_request hook"),
        (GroupsController, "after_response", _hook, "a after_response hook"),
        (UsersController, "dependencies", {"extra": Provide(_hook)}, "the dependencies extra"),
        (UsersController, "response_headers", {"X-Extra": "1"}, "response headers"),
    ],
    ids=["users-guard", "groups-guard", "before", "after", "after-response", "dependency", "hdr"],
)
def test_a_layer_the_fast_routes_would_not_run_stops_the_app(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    controller: type[Any],
    attribute: str,
    value: Any,
    said: str,
) -> None:
    monkeypatch.setattr(controller, attribute, value)
    with pytest.raises(RouteRefused, match=f"{controller.path}.* has {said}"):
        create_app(settings)


async def test_middleware_on_a_fast_route_runs(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def marking(app: Any) -> Any:
        async def mark(scope: Any, receive: Any, send: Any) -> None:
            seen.append(scope["path_template"])
            await app(scope, receive, send)

        return mark

    monkeypatch.setattr(UsersController, "middleware", [marking])
    from litestar.testing import AsyncTestClient  # noqa: PLC0415 - only this test serves

    async with AsyncTestClient(app=create_app(settings), base_url="http://scimlab.test") as c:
        practice = str(uuid.uuid4())
        response = await c.get(f"/scim/v2/{practice}/Users/x", headers={"Authorization": "x"})
    assert response.status_code == 401
    assert seen == [READ_ROUTE]


def test_a_fast_route_must_be_a_route_of_the_app(settings: Settings) -> None:
    app = create_app(settings).litestar

    async def endpoint(*_: object) -> None:
        return None

    missing = FastRoute("GET", "/scim/v2/{practice_id:uuid}/Nothing", endpoint)
    with pytest.raises(RouteRefused, match="no such route"):
        RouteDispatch(app, [missing], failure=endpoint)  # type: ignore[arg-type]
    delete = FastRoute("DELETE", "/scim/v2/{practice_id:uuid}/Users", endpoint)
    with pytest.raises(RouteRefused, match="no such route"):
        RouteDispatch(app, [delete], failure=endpoint)  # type: ignore[arg-type]
