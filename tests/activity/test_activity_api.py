"""The activity log through the management API, on both databases: what a SCIM request
leaves there (credential, route, status, resource, attribute names, request id), filters,
cursor paging, CSV, and nothing secret stored."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from tests.conftest import PracticeFixture, new_practice

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from server.ops.front import Front
    from server.persistence.store import PiccoloStore
    from server.settings import Settings

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _user(user_name: str, given: str = "Dana", family: str = "Lee") -> dict[str, Any]:
    return {
        "schemas": [USER],
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
        "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}],
        "title": "ignored",
    }


async def flush(client: AsyncTestClient[Litestar], app: Front) -> None:
    """Write what the recorder has queued now, on the app's own loop (the client's portal)."""
    recorder = app.state.activity_recorder
    await asyncio.to_thread(client.blocking_portal.call, recorder.flush)


async def _activity(
    client: AsyncTestClient[Litestar], app: Front, practice: PracticeFixture, **params: Any
) -> dict[str, Any]:
    await flush(client, app)
    response = await client.get(
        f"{practice.management_path}/activity", params=params, headers=practice.admin_headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_lifecycle_is_recorded_request_by_request(
    client: AsyncTestClient[Litestar],
    app: Front,
    practice: PracticeFixture,
    token_headers: dict[str, str],
) -> None:
    scim = practice.scim_path
    headers = {
        **token_headers,
        "User-Agent": "Okta SCIM Client 1.0.0",
        "X-Request-ID": "req-create-0001",
    }
    created = await client.post(
        f"{scim}/Users", json=_user("dana.lee@example.org"), headers=headers
    )
    assert created.status_code == 201
    user_id = created.json()["id"]
    taken = await client.post(
        f"{scim}/Users", json=_user("DANA.LEE@example.org", "X", "Y"), headers=token_headers
    )
    assert taken.status_code == 409
    patch = {
        "schemas": [PATCH],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
    }
    assert (
        await client.patch(f"{scim}/Users/{user_id}", json=patch, headers=token_headers)
    ).status_code == 200
    assert (await client.get(f"{scim}/Users/{user_id}", headers=token_headers)).status_code == 200
    assert (
        await client.delete(f"{scim}/Users/{user_id}", headers=token_headers)
    ).status_code == 204
    refused = await client.get(f"{scim}/Users", headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401

    items = (await _activity(client, app, practice))["items"]
    assert [(i["operation"], i["status"]) for i in items] == [
        ("user.search", 401),
        ("user.delete", 204),
        ("user.read", 200),
        ("user.update", 200),
        ("user.create", 409),
        ("user.create", 201),
    ]
    first = items[-1]
    assert first["request_id"] == "req-create-0001"
    assert first["user_agent"] == "Okta SCIM Client 1.0.0"
    assert first["credential"] == "oauth"
    assert first["credential_label"] == f"OAuth client …{practice.client_id[-4:]}"
    assert first["route"] == "/scim/v2/{practice_id}/Users"
    assert first["resource_id"] == user_id
    assert first["resource_name"] == "Dana Lee"
    assert first["attributes"] == ["userName", "name.givenName", "name.familyName", "phoneNumbers"]
    conflict = items[-2]
    assert conflict["outcome"] == "refused"
    assert conflict["scim_type"] == "uniqueness"
    assert (
        conflict["explanation"] == "The identity provider sent a userName already used by Dana Lee."
    )
    assert items[3]["attributes"] == ["active"]
    assert items[2]["attributes"] == []
    deleted = items[1]
    assert deleted["resource_id"] == user_id
    assert deleted["resource_name"] == "Dana Lee"
    assert items[0]["credential"] == "bearer"
    assert items[0]["credential_label"] == "Unrecognised bearer token"


async def test_filters_and_cursor_pages(
    client: AsyncTestClient[Litestar],
    app: Front,
    practice: PracticeFixture,
    token_headers: dict[str, str],
) -> None:
    scim = practice.scim_path
    ids = []
    for n in range(5):
        created = await client.post(
            f"{scim}/Users", json=_user(f"u{n}@example.org", f"U{n}"), headers=token_headers
        )
        ids.append(created.json()["id"])
    await client.get(f"{scim}/Users/{ids[0]}", headers=token_headers)
    await client.get(f"{scim}/Users", headers={"Authorization": "Bearer nope"})

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await _activity(client, app, practice, **params)
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    staff = (await _activity(client, app, practice, staff=ids[0]))["items"]
    assert [i["operation"] for i in staff] == ["user.read", "user.create"]
    refused = (await _activity(client, app, practice, outcome="refused"))["items"]
    assert [i["status"] for i in refused] == [401]
    creates = (await _activity(client, app, practice, operation="user.create"))["items"]
    assert len(creates) == 5
    future = (await _activity(client, app, practice, since="2999-01-01"))["items"]
    assert future == []
    csv = await client.get(
        f"{practice.management_path}/activity",
        params={"format": "csv", "operation": "user.create"},
        headers=practice.admin_headers,
    )
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == 6
    bad = await client.get(
        f"{practice.management_path}/activity",
        params={"since": "yesterday"},
        headers=practice.admin_headers,
    )
    assert bad.status_code == 400
    assert "since" in bad.text


async def test_another_practice_and_no_key_see_nothing(
    client: AsyncTestClient[Litestar],
    practice: PracticeFixture,
    store: PiccoloStore,
    settings: Settings,
) -> None:
    other = await new_practice(client, store, settings)
    path = f"{practice.management_path}/activity"
    assert (await client.get(path, headers=other.admin_headers)).status_code == 404
    assert (await client.get(path)).status_code == 401


async def test_the_openapi_document_describes_it(client: AsyncTestClient[Litestar]) -> None:
    document = (await client.get("/api/docs/openapi.json")).json()
    operation = document["paths"]["/api/v1/practices/{practice_id}/scim/activity"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"staff", "outcome", "operation", "since", "until", "cursor", "limit", "format"} <= names
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert "ActivityPageBody" in json.dumps(schema)
