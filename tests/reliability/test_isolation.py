"""Isolation, as a property: whatever sequence of requests one practice's credentials make
(on another practice's URLs, or on its own URLs naming another practice's ids, names and
members), it cannot read, list, count or change another practice's data."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import fetch_token, new_practice
from tests.reliability.scim_strategies import GROUP_SCHEMA, SEARCH_SCHEMA
from tests.reliability.support import (
    PATCH_SCHEMA,
    Dumper,
    deployment,
    query,
    sized,
    user_body,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

    from tests.conftest import PracticeFixture
    from tests.reliability.support import Deployment

pytestmark = pytest.mark.reliability

OWN_USERS = """SELECT count(*) FROM staff_user
WHERE practice_id = '{practice}' AND scim_provisioned AND NOT scim_deleted"""


@dataclass
class Tenant:
    practice: PracticeFixture
    token: str
    users: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    marker: str = field(default_factory=lambda: f"Secret{uuid.uuid4().hex[:10]}")

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def basic(self) -> dict[str, str]:
        raw = f"{self.practice.client_id}:{self.practice.client_secret}".encode()
        return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}


@dataclass
class World:
    deployed: Deployment
    tenants: list[Tenant]
    dumper: Dumper
    requests: int = 0


@pytest.fixture(scope="module")
async def world(backend: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async with deployment(backend, tmp_path_factory.mktemp("isolation")) as d:
        tenants = []
        for _ in range(3):
            practice = await new_practice(d.client, d.store, d.settings)
            tenant = Tenant(practice, await fetch_token(d.client, practice))
            for i in range(3):
                name = f"{tenant.marker.lower()}.{i}@shared.example"
                created = await d.client.post(
                    f"{practice.scim_path}/Users",
                    json=user_body(
                        name, name={"givenName": tenant.marker}, externalId=tenant.marker
                    ),
                    headers=tenant.bearer,
                )
                tenant.users.append(created.json()["id"])
                tenant.names.append(name)
            group = await d.client.post(
                f"{practice.scim_path}/Groups",
                json={
                    "schemas": [GROUP_SCHEMA],
                    "displayName": tenant.marker,
                    "members": [{"value": tenant.users[0]}],
                },
                headers=tenant.bearer,
            )
            tenant.groups.append(group.json()["id"])
            tenants.append(tenant)
        async with Dumper(d.url) as dumper:
            yielded = World(d, tenants, dumper)
            yield yielded
        print(f"\nisolation on {backend}: {yielded.requests} cross-tenant requests, no leak")


def _rows_of(dump: dict[str, list[str]], practice_id: str) -> dict[str, list[str]]:
    return {table: [r for r in rows if practice_id in r] for table, rows in dump.items()}


@dataclass(frozen=True)
class Step:
    actor: int
    victim: int
    kind: str
    pick: int


KINDS = [
    "their-list", "their-user", "their-filter", "their-search", "their-create", "their-delete",
    "their-groups", "own-get-their-id", "own-patch-their-id", "own-put-their-id",
    "own-delete-their-id", "own-filter-their-name", "own-filter-their-id", "own-search-their-name",
    "own-group-with-their-member", "own-group-add-their-member", "own-get-their-group",
    "own-create-same-name", "own-basic-on-their-url", "token-with-their-secret",
    "admin-on-their-practice",
]  # fmt: skip
STEPS = st.builds(
    Step, st.integers(0, 2), st.integers(0, 2), st.sampled_from(KINDS), st.integers(0, 2)
).filter(lambda s: s.actor != s.victim)


def _request(step: Step, me: Tenant, them: Tenant) -> dict[str, Any]:
    mine, theirs = me.practice.scim_path, them.practice.scim_path
    user, name, group = them.users[step.pick], them.names[step.pick], them.groups[0]
    patch = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    search = {"schemas": [SEARCH_SCHEMA], "filter": f'userName eq "{name}"'}
    by_kind: dict[str, dict[str, Any]] = {
        "their-list": {"method": "GET", "url": f"{theirs}/Users"},
        "their-user": {"method": "GET", "url": f"{theirs}/Users/{user}"},
        "their-filter": {
            "method": "GET",
            "url": f"{theirs}/Users",
            "params": {"filter": f'userName eq "{name}"'},
        },
        "their-search": {"method": "POST", "url": f"{theirs}/.search", "json": search},
        "their-create": {
            "method": "POST",
            "url": f"{theirs}/Users",
            "json": user_body("intruder@x.org"),
        },
        "their-delete": {"method": "DELETE", "url": f"{theirs}/Users/{user}"},
        "their-groups": {"method": "GET", "url": f"{theirs}/Groups"},
        "own-get-their-id": {"method": "GET", "url": f"{mine}/Users/{user}"},
        "own-patch-their-id": {"method": "PATCH", "url": f"{mine}/Users/{user}", "json": patch},
        "own-put-their-id": {
            "method": "PUT",
            "url": f"{mine}/Users/{user}",
            "json": user_body(name),
        },
        "own-delete-their-id": {"method": "DELETE", "url": f"{mine}/Users/{user}"},
        "own-filter-their-name": {
            "method": "GET",
            "url": f"{mine}/Users",
            "params": {"filter": f'userName eq "{name}" or externalId eq "{them.marker}"'},
        },
        "own-filter-their-id": {
            "method": "GET",
            "url": f"{mine}/Users",
            "params": {"filter": f'id eq "{user}"'},
        },
        "own-search-their-name": {"method": "POST", "url": f"{mine}/.search", "json": search},
        "own-group-with-their-member": {
            "method": "POST",
            "url": f"{mine}/Groups",
            "json": {
                "schemas": [GROUP_SCHEMA],
                "displayName": f"g-{uuid.uuid4().hex[:6]}",
                "members": [{"value": user}],
            },
        },
        "own-group-add-their-member": {
            "method": "PATCH",
            "url": f"{mine}/Groups/{me.groups[0]}",
            "json": {
                "schemas": [PATCH_SCHEMA],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": user}]}],
            },
        },
        "own-get-their-group": {"method": "GET", "url": f"{mine}/Groups/{group}"},
        "own-create-same-name": {"method": "POST", "url": f"{mine}/Users", "json": user_body(name)},
        "own-basic-on-their-url": {"method": "GET", "url": f"{theirs}/Users", "headers": me.basic},
        "token-with-their-secret": {
            "method": "POST",
            "url": "/oauth/token",
            "data": {
                "grant_type": "client_credentials",
                "client_id": me.practice.client_id,
                "client_secret": them.practice.client_secret,
            },
            "headers": {},
        },
        "admin-on-their-practice": {
            "method": "GET",
            "url": f"{them.practice.management_path}/audit",
            "headers": me.practice.admin_headers,
        },
    }
    request = by_kind[step.kind]
    request.setdefault("headers", me.bearer)
    return request


def _check(step: Step, request: str, response: httpx.Response, them: Tenant) -> None:
    assert response.status_code < 500, response.text
    # Anything of theirs in the answer that the request did not itself carry is a leak.
    secrets = [s for s in [*them.users, *them.groups, them.marker] if s not in request]
    leaked = [s for s in secrets if s in response.text]
    assert leaked == [], (step, response.text)
    if step.kind.startswith("their-") or step.kind == "own-basic-on-their-url":
        assert response.status_code == 401, (step, response.text)
    if step.kind == "token-with-their-secret":
        assert response.status_code == 401
    if step.kind == "admin-on-their-practice":
        assert response.status_code in (401, 404)
    if step.kind.startswith("own-") and step.kind != "own-create-same-name":
        if response.status_code == 200 and "totalResults" in response.json():
            found = response.json()
            assert found["totalResults"] == len(found.get("Resources", [])), step
        elif step.kind != "own-basic-on-their-url":
            assert response.status_code in (400, 404), (step, response.text)


@settings(
    max_examples=sized(40, 300),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(steps=st.lists(STEPS, min_size=1, max_size=6))
async def test_no_request_crosses_tenants(world: World, steps: list[Step]) -> None:
    before = await world.dumper.dump()
    for step in steps:
        me, them = world.tenants[step.actor], world.tenants[step.victim]
        request = _request(step, me, them)
        response = await world.deployed.client.request(**request)
        world.requests += 1
        _check(step, json.dumps(request, default=str), response, them)
    after = await world.dumper.dump()
    for index, tenant in enumerate(world.tenants):
        if all(step.actor != index for step in steps):
            # Nobody acting for this practice: every one of its rows is as it was.
            assert _rows_of(after, tenant.practice.id) == _rows_of(before, tenant.practice.id)
    # Listing and counting: each practice sees exactly its own users, as the database has them.
    for tenant in world.tenants:
        listed = await world.deployed.client.get(
            f"{tenant.practice.scim_path}/Users", params={"count": 1000}, headers=tenant.bearer
        )
        rows = await query(world.deployed.url, OWN_USERS.format(practice=tenant.practice.id))
        assert listed.json()["totalResults"] == rows[0][0]
        for other in world.tenants:
            if other is not tenant:
                assert not [s for s in [*other.users, other.marker] if s in listed.text]
