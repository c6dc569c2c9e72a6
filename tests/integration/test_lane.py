"""The edge's lane (``server.ops.lane``) answers the shortcut routes without the router, under
the route's own metrics and rate limits, and sends every other request the usual way.

That the two ways answer alike is checked by ``test_shortcuts.py`` and
``test_patch_shortcut.py`` (their plain requests take the lane); the rate limits on lane
requests by ``tests/reliability/test_rate_limits.py``. Here: which requests take it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar, get
from litestar.exceptions import NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.params import FromPath  # noqa: TC002 - Litestar reads the annotations at runtime
from prometheus_client import REGISTRY

from server.ops.lane import Lane, LaneRoute
from server.ops.metrics import metrics_config
from server.ops.ratelimit import RateLimitMiddleware
from server.scim.shortcuts import SHORTCUT_ROUTES, PlainRead
from tests.conftest import PracticeFixture, bearer_headers
from tests.integration.test_scim_groups import _user as create_user

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient
    from litestar.types import ASGIApp, Receive, Scope, Send

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
READ_ROUTE = "/scim/v2/{practice_id}/Users/{user_id}"


@pytest.fixture
async def headers(client: AsyncTestClient[Any], practice: PracticeFixture) -> dict[str, str]:
    return await bearer_headers(client, practice)


@pytest.fixture
def routed(app: Litestar, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every request the router resolves from here on (the lane's never reach it)."""
    seen: list[str] = []
    resolve = app.asgi_router.handle_routing

    def spy(path: str, method: str | None) -> Any:
        seen.append(f"{method} {path}")
        return resolve(path=path, method=method)

    monkeypatch.setattr(app.asgi_router, "handle_routing", spy)
    return seen


async def _user(client: AsyncTestClient[Any], practice: PracticeFixture, headers: Any) -> str:
    return await create_user(client, practice, headers, f"lane.{uuid.uuid4().hex[:8]}@example.org")


async def test_the_shortcut_routes_take_the_lane(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    routed: list[str],
) -> None:
    user_id = await _user(client, practice, headers)
    users = f"{practice.scim_path}/Users"
    off = {"op": "replace", "value": {"active": False}}
    patch = {"schemas": [PATCH_SCHEMA], "Operations": [off]}
    answers = [
        await client.get(f"{users}/{user_id}", headers=headers),
        await client.patch(f"{users}/{user_id}", json=patch, headers=headers),
        await client.get(users, params={"filter": f'id eq "{user_id}"'}, headers=headers),
        await client.get(users, headers=headers),
        await client.get(f"{users}/{uuid.uuid4()}", headers=headers),
        await client.get(f"{users}/{user_id}", headers={"Authorization": "Bearer forged"}),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 404, 401]
    assert answers[1].json()["active"] is False
    assert answers[2].json()["totalResults"] == 1
    assert routed == []


@pytest.mark.parametrize(
    ("method", "suffix", "extra", "status"),
    [
        ("GET", "/Users/{user}?attributes=userName", {}, 200),
        ("GET", "/Users/{user}", {"If-None-Match": 'W/"0"'}, 200),
        ("GET", "/Users/{user}", {"Prefer": "handling=lenient"}, 200),
        ("GET", "/Users/{user}/", {}, 200),
        ("GET", "//Users/{user}", {}, 200),
        ("GET", "/Users/{user}", {"Authorization": "Basic YTpi"}, 401),
        ("GET", "/Users?attributes=userName", {}, 200),
        ("DELETE", "/Users/{unknown}", {}, 404),
        ("PUT", "/Users/{unknown}", {}, 404),
        ("GET", "/Groups/{unknown}", {}, 404),
    ],
    ids=[
        "attributes",
        "if-none-match",
        "prefer",
        "trailing-slash",
        "doubled-slash",
        "basic-auth",
        "search-attributes",
        "delete",
        "put",
        "groups",
    ],
)
async def test_other_requests_go_the_usual_way(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    routed: list[str],
    method: str,
    suffix: str,
    extra: dict[str, str],
    status: int,
) -> None:
    user_id = await _user(client, practice, headers)
    routed.clear()
    path = practice.scim_path + suffix.format(user=user_id, unknown=uuid.uuid4())
    body = {"schemas": [USER_SCHEMA], "userName": "x@example.org"} if method == "PUT" else None
    response = await client.request(method, path, headers={**headers, **extra}, json=body)
    assert response.status_code == status, response.text
    assert len(routed) == 1


async def test_a_practice_id_the_router_must_convert_goes_the_usual_way(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    routed: list[str],
) -> None:
    user_id = await _user(client, practice, headers)
    routed.clear()
    compact = uuid.UUID(practice.id).hex  # the router reads it; the lane's pattern does not
    response = await client.get(f"/scim/v2/{compact}/Users/{user_id}", headers=headers)
    assert response.status_code == 200
    assert response.json()["id"] == user_id
    assert len(routed) == 1


async def test_a_bad_host_header_is_refused_as_the_router_refuses_it(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str]
) -> None:
    user_id = await _user(client, practice, headers)
    path = f"{practice.scim_path}/Users/{user_id}"
    response = await client.get(path, headers={**headers, "Host": "bad host"})
    assert response.status_code == 400
    assert (await client.get(path, headers=headers)).status_code == 200


async def test_a_failure_around_the_shortcut_is_answered_as_the_router_answers_it(
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
    path = f"{practice.scim_path}/Users/{user_id}"
    lane = await client.get(path, headers=headers)
    usual = await client.get(path, headers={**headers, "Prefer": "handling=lenient"})
    assert lane.status_code == usual.status_code == 500
    assert "broke" not in lane.text
    ids = lane.headers["x-request-id"], usual.headers["x-request-id"]
    assert ids[0] in lane.text
    assert lane.text.replace(ids[0], "ID") == usual.text.replace(ids[1], "ID")


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"app_name": "scimlab", **labels}) or 0.0


async def test_lane_requests_are_counted_per_route_status_and_practice(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str]
) -> None:
    user_id = await _user(client, practice, headers)
    labels = {"method": "GET", "path": READ_ROUTE}
    before = {
        status: _count("scimlab_requests_total", **labels, status_code=status, practice=label)
        for status, label in [("200", practice.id), ("404", practice.id), ("401", "-")]
    }
    path = f"{practice.scim_path}/Users"
    for _ in range(2):
        assert (await client.get(f"{path}/{user_id}", headers=headers)).status_code == 200
    assert (await client.get(f"{path}/{uuid.uuid4()}", headers=headers)).status_code == 404
    forged = {"Authorization": "Bearer forged"}
    assert (await client.get(f"{path}/{user_id}", headers=forged)).status_code == 401
    after = {
        status: _count("scimlab_requests_total", **labels, status_code=status, practice=label)
        for status, label in [("200", practice.id), ("404", practice.id), ("401", "-")]
    }
    assert {k: after[k] - before[k] for k in after} == {"200": 2.0, "404": 1.0, "401": 1.0}
    in_progress = {"method": "GET", "path": READ_ROUTE, "status_code": "200", "practice": "-"}
    assert _count("scimlab_requests_in_progress", **in_progress) == 0.0


class _Stranger:
    """A middleware the lane does not know how to run."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@get("/scim/v2/{practice_id:uuid}/Users/{user_id:str}", middleware=[PlainRead])
async def _read(practice_id: FromPath[uuid.UUID], user_id: FromPath[str]) -> None:
    return None


def test_a_route_with_a_layer_the_lane_does_not_know_is_refused() -> None:
    known = Litestar([_read], middleware=[metrics_config().middleware])
    Lane([SHORTCUT_ROUTES[0]]).bind(known)

    stranger = Litestar([_read], middleware=[DefineMiddleware(_Stranger)])
    with pytest.raises(TypeError, match="_Stranger is not a shortcut"):
        Lane([SHORTCUT_ROUTES[0]]).bind(stranger)

    route = SHORTCUT_ROUTES[0]
    no_shortcut = LaneRoute(route.method, route.pattern, "/elsewhere", route.convert)
    with pytest.raises(NotFoundException):
        Lane([no_shortcut]).bind(known)
