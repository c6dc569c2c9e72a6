"""``/Users``: create, find, deactivate, delete, and the platform's provisioning rules."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from server.domain.staff import AccessLevel
from tests.conftest import PUBLIC_URL, PracticeFixture, fetch_token, new_practice

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.settings import Settings

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

# An Entra-shaped creation body (idp-behaviors §1.3): far more than the platform keeps.
ENTRA_USER: dict[str, Any] = {
    "schemas": [USER_SCHEMA, ENTERPRISE],
    "externalId": "alice.ng",
    "userName": "Alice.Ng@contoso.com",
    "active": True,
    "displayName": "Alice Ng",
    "title": "Staff Engineer",
    "emails": [{"primary": True, "type": "work", "value": "alice.ng@contoso.com"}],
    "name": {"formatted": "Alice Ng", "givenName": "Alice", "familyName": "Ng"},
    "phoneNumbers": [
        {"type": "work", "value": "+1 425 555 0100"},
        {"type": "mobile", "value": "+1 425 555 0199"},
    ],
    "addresses": [{"type": "work", "locality": "Redmond", "country": "US", "primary": False}],
    ENTERPRISE: {"employeeNumber": "100482", "department": "Platform"},
    "meta": {"resourceType": "User"},
    "roles": [],
}


def _patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


async def _create(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    body: dict[str, Any],
) -> dict[str, Any]:
    response = await client.post(f"{practice.scim_path}/Users", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _count(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str]
) -> int:
    response = await client.get(f"{practice.scim_path}/Users", headers=headers)
    return int(response.json()["totalResults"])


async def test_create_keeps_only_accepted_attributes(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    practice: PracticeFixture,
    token_headers: dict[str, str],
) -> None:
    response = await client.post(
        f"{practice.scim_path}/Users", json=ENTRA_USER, headers=token_headers
    )
    assert response.status_code == 201
    body = response.json()
    user_id = body["id"]
    location = f"{PUBLIC_URL}/scim/v2/{practice.id}/Users/{user_id}"
    assert response.headers["location"] == location
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["content-type"].startswith("application/scim+json")
    assert set(body) == {
        "schemas",
        "id",
        "externalId",
        "meta",
        "userName",
        "name",
        "active",
        "emails",
        "phoneNumbers",
    }
    assert body["schemas"] == [USER_SCHEMA]
    assert body["name"] == {"givenName": "Alice", "familyName": "Ng"}
    assert body["emails"] == [{"value": "alice.ng@contoso.com", "type": "work", "primary": True}]
    assert body["phoneNumbers"] == [{"value": "+1 425 555 0199", "type": "mobile"}]
    assert body["meta"]["location"] == location
    assert body["meta"]["version"] == 'W/"1"'

    staff = await store.staff.get(UUID(practice.id), UUID(user_id))
    assert staff is not None
    assert staff.access_level is AccessLevel.ADMIN_STAFF
    assert staff.scim_provisioned
    assert not staff.has_password
    assert not staff.is_practice_admin
    assert staff.profile.user_name == "Alice.Ng@contoso.com"
    assert staff.profile.cell_phone == "+1 425 555 0199"
    assert staff.profile.external_id == "alice.ng"

    again = await client.get(f"{practice.scim_path}/Users/{user_id}", headers=token_headers)
    assert again.status_code == 200
    assert again.json() == body
    assert again.headers["etag"] == 'W/"1"'


async def test_pascal_case_and_string_booleans_are_understood(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    body = {
        "schemas": [USER_SCHEMA],
        "UserName": "pascal@example.org",
        "Active": "False",
        "Emails": [{"Primary": True, "Type": "work", "Value": "pascal@example.org"}],
    }
    created = await _create(client, practice, token_headers, body)
    assert created["userName"] == "pascal@example.org"
    assert created["active"] is False
    assert created["emails"][0]["value"] == "pascal@example.org"


async def test_filter_by_user_name_is_case_insensitive(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    created = await _create(
        client,
        practice,
        token_headers,
        {"schemas": [USER_SCHEMA], "userName": "Bo.Silva@Example.org"},
    )
    response = await client.get(
        f"{practice.scim_path}/Users",
        params={"filter": 'userName eq "BO.SILVA@EXAMPLE.ORG"'},
        headers=token_headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["schemas"] == [LIST_SCHEMA]
    assert body["totalResults"] == 1
    assert body["itemsPerPage"] == 1
    assert body["startIndex"] == 1
    assert [r["id"] for r in body["Resources"]] == [created["id"]]


async def test_entra_test_connection_gets_an_empty_list(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    response = await client.get(
        f"{practice.scim_path}/Users",
        params={"filter": 'userName eq "5c0e2f4a-9b7d-4c41-8f0e-2a6b1d3c9e77"'},
        headers=token_headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["totalResults"] == 0
    assert body["Resources"] == [] or "Resources" not in body
    assert isinstance(body["totalResults"], int)


async def test_practice_administrator_is_not_visible_to_scim(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    response = await client.get(
        f"{practice.scim_path}/Users",
        params={"filter": 'userName eq "admin"'},
        headers=token_headers,
    )
    assert response.json()["totalResults"] == 0
    taken = await client.post(
        f"{practice.scim_path}/Users",
        json={"schemas": [USER_SCHEMA], "userName": "ADMIN"},
        headers=token_headers,
    )
    assert taken.status_code == 409
    assert taken.json()["scimType"] == "uniqueness"


async def test_duplicate_user_name_in_any_case_is_a_conflict(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    await _create(
        client, practice, token_headers, {"schemas": [USER_SCHEMA], "userName": "dup@example.org"}
    )
    before = await _count(client, practice, token_headers)
    response = await client.post(
        f"{practice.scim_path}/Users",
        json={"schemas": [USER_SCHEMA], "userName": "DUP@Example.ORG"},
        headers=token_headers,
    )
    assert response.status_code == 409
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["scimType"] == "uniqueness"
    assert body["status"] == "409"
    assert await _count(client, practice, token_headers) == before


async def test_parallel_creates_of_one_name_yield_exactly_one_user(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    names = ["race@example.org", "RACE@example.org", "Race@Example.org", "race@EXAMPLE.ORG"] * 3
    responses = await asyncio.gather(
        *(
            client.post(
                f"{practice.scim_path}/Users",
                json={"schemas": [USER_SCHEMA], "userName": n},
                headers=token_headers,
            )
            for n in names
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (len(names) - 1)
    found = await client.get(
        f"{practice.scim_path}/Users",
        params={"filter": 'userName eq "race@example.org"'},
        headers=token_headers,
    )
    assert found.json()["totalResults"] == 1


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "replace", "path": "active", "value": False}],
        [{"op": "Replace", "path": "active", "value": "False"}],
        [{"op": "replace", "value": {"active": False}}],
        [{"op": "REPLACE", "value": {"active": "false"}}],
    ],
    ids=["rfc", "entra-default", "okta-pathless", "string-lowercase"],
)
async def test_deactivate_and_reactivate_by_patch(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    operations: list[dict[str, Any]],
) -> None:
    created = await _create(
        client,
        practice,
        token_headers,
        {
            "schemas": [USER_SCHEMA],
            "userName": f"flip-{len(json.dumps(operations))}@x.org",
            "name": {"givenName": "F"},
        },
    )
    url = f"{practice.scim_path}/Users/{created['id']}"
    response = await client.patch(url, json=_patch(*operations), headers=token_headers)
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert response.json()["name"] == {"givenName": "F"}
    assert response.headers["etag"] == 'W/"2"'
    read = await client.get(url, headers=token_headers)
    assert read.json()["active"] is False

    back = await client.patch(
        url,
        json=_patch({"op": "Replace", "path": "active", "value": "True"}),
        headers=token_headers,
    )
    assert back.status_code == 200
    assert back.json()["active"] is True


async def test_patch_of_unaccepted_attributes_changes_nothing(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    created = await _create(
        client, practice, token_headers, {"schemas": [USER_SCHEMA], "userName": "quiet@x.org"}
    )
    url = f"{practice.scim_path}/Users/{created['id']}"
    response = await client.patch(
        url,
        json=_patch(
            {"op": "replace", "path": "title", "value": "Boss"},
            {"op": "add", "path": f"{ENTERPRISE}:department", "value": "Ops"},
            {"op": "replace", "path": "nickName", "value": "Q"},
        ),
        headers=token_headers,
    )
    assert response.status_code == 200
    assert response.json() == created


async def test_if_match_guards_writes(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    created = await _create(
        client, practice, token_headers, {"schemas": [USER_SCHEMA], "userName": "etag@x.org"}
    )
    url = f"{practice.scim_path}/Users/{created['id']}"
    stale = await client.patch(
        url,
        json=_patch({"op": "replace", "path": "active", "value": False}),
        headers={**token_headers, "If-Match": 'W/"7"'},
    )
    assert stale.status_code == 412
    assert (await client.get(url, headers=token_headers)).json()["active"] is True
    fresh = await client.patch(
        url,
        json=_patch({"op": "replace", "path": "active", "value": False}),
        headers={**token_headers, "If-Match": 'W/"1"'},
    )
    assert fresh.status_code == 200


async def test_delete_hides_the_user_but_keeps_the_account(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    practice: PracticeFixture,
    token_headers: dict[str, str],
) -> None:
    created = await _create(
        client, practice, token_headers, {"schemas": [USER_SCHEMA], "userName": "leaver@x.org"}
    )
    url = f"{practice.scim_path}/Users/{created['id']}"
    first = await client.delete(url, headers=token_headers)
    assert first.status_code == 204
    assert first.content == b""
    for _ in range(2):
        assert (await client.get(url, headers=token_headers)).status_code == 404
        assert (await client.delete(url, headers=token_headers)).status_code == 404
    patched = await client.patch(
        url, json=_patch({"op": "replace", "path": "active", "value": True}), headers=token_headers
    )
    assert patched.status_code == 404

    kept = await store.staff.get(UUID(practice.id), UUID(created["id"]))
    assert kept is not None
    assert kept.scim_deleted
    assert kept.profile.active is False

    # A rehire under the same name is a new account.
    rehired = await _create(
        client, practice, token_headers, {"schemas": [USER_SCHEMA], "userName": "Leaver@x.org"}
    )
    assert rehired["id"] != created["id"]


BAD_BODIES: list[tuple[str, bytes, int, str | None]] = [
    ("malformed-json", b'{"schemas": [', 400, "invalidSyntax"),
    ("not-an-object", b"[1, 2]", 400, "invalidSyntax"),
    (
        "wrong-schema",
        json.dumps({"schemas": ["urn:nope"], "userName": "x@y.org"}).encode(),
        400,
        "invalidSyntax",
    ),
    ("missing-user-name", json.dumps({"schemas": [USER_SCHEMA]}).encode(), 400, "invalidValue"),
    (
        "blank-user-name",
        json.dumps({"schemas": [USER_SCHEMA], "userName": "   "}).encode(),
        400,
        "invalidValue",
    ),
    (
        "wrong-type",
        json.dumps({"schemas": [USER_SCHEMA], "userName": ["x"]}).encode(),
        400,
        "invalidValue",
    ),
    (
        "bad-boolean",
        json.dumps({"schemas": [USER_SCHEMA], "userName": "b@x.org", "active": "maybe"}).encode(),
        400,
        "invalidValue",
    ),
    ("deep-nesting", b'{"a":' * 5000 + b"1" + b"}" * 5000, 400, "invalidSyntax"),
    (
        "over-one-mebibyte",
        json.dumps({"schemas": [USER_SCHEMA], "userName": "x" * (1024 * 1024)}).encode(),
        413,
        None,
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "scim_type"), [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES]
)
async def test_bad_input_gets_a_scim_error_and_changes_nothing(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    body: bytes,
    status: int,
    scim_type: str | None,
) -> None:
    before = await _count(client, practice, token_headers)
    response = await client.post(f"{practice.scim_path}/Users", content=body, headers=token_headers)
    assert response.status_code == status
    error = response.json()
    assert error["schemas"] == [ERROR_SCHEMA]
    assert error["status"] == str(status)
    assert error.get("scimType") == scim_type
    assert "Traceback" not in response.text
    assert await _count(client, practice, token_headers) == before


async def test_unsupported_media_type_is_refused(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    response = await client.post(
        f"{practice.scim_path}/Users",
        content=b"userName=x",
        headers={**token_headers, "Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    assert response.json()["schemas"] == [ERROR_SCHEMA]


@pytest.mark.parametrize("user_id", ["nope", "00000000-0000-4000-8000-000000000000", "1 OR 1=1"])
async def test_unknown_ids_are_404(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    user_id: str,
) -> None:
    response = await client.get(f"{practice.scim_path}/Users/{user_id}", headers=token_headers)
    assert response.status_code == 404
    assert response.json()["status"] == "404"
    assert response.json()["schemas"] == [ERROR_SCHEMA]


@pytest.mark.parametrize(
    ("params", "scim_type"),
    [
        ({"filter": "userName eq"}, "invalidFilter"),
        ({"filter": 'userName eq "x" and ('}, "invalidFilter"),
        ({"startIndex": "abc"}, "invalidValue"),
        ({"count": "many"}, "invalidValue"),
    ],
)
async def test_bad_list_queries_are_400(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    params: dict[str, str],
    scim_type: str,
) -> None:
    response = await client.get(f"{practice.scim_path}/Users", params=params, headers=token_headers)
    assert response.status_code == 400
    assert response.json()["scimType"] == scim_type


async def test_paging_counts_are_integers_and_windows_are_stable(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ids = [
        (
            await _create(
                client,
                practice,
                token_headers,
                {"schemas": [USER_SCHEMA], "userName": f"page{i}@x.org"},
            )
        )["id"]
        for i in range(5)
    ]
    seen: list[str] = []
    for start in (1, 3, 5):
        page = await client.get(
            f"{practice.scim_path}/Users",
            params={"startIndex": start, "count": 2},
            headers=token_headers,
        )
        body = page.json()
        assert body["totalResults"] == 5
        assert body["startIndex"] == start
        assert body["itemsPerPage"] == len(body["Resources"])
        seen.extend(r["id"] for r in body["Resources"])
    assert seen == ids


async def test_service_provider_config_states_what_is_supported(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    response = await client.get(
        f"{practice.scim_path}/ServiceProviderConfig", headers=token_headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert body["patch"] == {"supported": True}
    assert body["bulk"]["supported"] is False
    assert body["etag"] == {"supported": True}
    assert {s["type"] for s in body["authenticationSchemes"]} == {"oauthbearertoken", "httpbasic"}
    assert body["pagination"]["maxPageSize"] == body["filter"]["maxResults"] == 1000
    assert body["pagination"]["index"] is True


async def test_a_work_email_belongs_to_one_account_per_practice(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    settings: Settings,
    practice: PracticeFixture,
    token_headers: dict[str, str],
) -> None:
    def body(name: str, email: str) -> dict[str, Any]:
        return {
            "schemas": [USER_SCHEMA],
            "userName": name,
            "emails": [{"value": email, "type": "work"}],
        }

    await _create(client, practice, token_headers, body("first@x.org", "shared@clinic.org"))
    clash = await client.post(
        f"{practice.scim_path}/Users",
        json=body("second@x.org", "SHARED@Clinic.org"),
        headers=token_headers,
    )
    assert clash.status_code == 409
    assert clash.json()["scimType"] == "uniqueness"
    assert "email" in clash.json()["detail"]
    found = await client.get(
        f"{practice.scim_path}/Users",
        params={"filter": 'userName eq "second@x.org"'},
        headers=token_headers,
    )
    assert found.json()["totalResults"] == 0

    other = await new_practice(client, store, settings)
    other_headers = {"Authorization": f"Bearer {await fetch_token(client, other)}"}
    elsewhere = await client.post(
        f"{other.scim_path}/Users",
        json=body("first@x.org", "shared@clinic.org"),
        headers=other_headers,
    )
    assert elsewhere.status_code == 201
