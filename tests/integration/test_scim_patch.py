"""PATCH and PUT on ``/Users`` in the dialects identity providers speak (idp-behaviors §1.4,
§2.4-§2.6), and the RFC 7644 §3.5.2 rules that hold whatever the dialect.

Every test works on users it creates itself, under a unique userName, so the tests of this
module share one practice per database (creating a practice hashes its secrets).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from tests.conftest import PracticeFixture, new_practice

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.settings import Settings

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

ALICE: dict[str, Any] = {
    "schemas": [USER_SCHEMA],
    "name": {"givenName": "Alice", "familyName": "Ng"},
}


@pytest.fixture(scope="module")
async def practice(
    client: AsyncTestClient[Any], store: PiccoloStore, settings: Settings
) -> PracticeFixture:
    return await new_practice(client, store, settings)


def _unique(local: str) -> str:
    return f"{local}.{uuid.uuid4().hex[:10]}@x.org"


def _patch(*operations: Any) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


async def _create(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    body: dict[str, Any] = ALICE,
) -> tuple[str, dict[str, Any]]:
    """The new user's URL and body; a userName is made unique unless the body has one."""
    body = {"userName": _unique("alice"), **body}
    response = await client.post(f"{practice.scim_path}/Users", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created = dict(response.json())
    return f"{practice.scim_path}/Users/{created['id']}", created


async def _apply(
    client: AsyncTestClient[Any], url: str, headers: dict[str, str], *operations: Any
) -> dict[str, Any]:
    response = await client.patch(url, json=_patch(*operations), headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_op_names_in_any_case(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    url, _ = await _create(
        client,
        practice,
        token_headers,
        {**ALICE, "phoneNumbers": [{"value": "555", "type": "mobile"}]},
    )
    body = await _apply(
        client,
        url,
        token_headers,
        {"op": "Add", "path": "externalId", "value": "ext-1"},
        {"op": "REPLACE", "path": "name.familyName", "value": "Ng-Park"},
        {"op": "remove", "path": 'phoneNumbers[type eq "mobile"]'},
        {"op": "rEpLaCe", "path": "active", "value": False},
    )
    assert body["externalId"] == "ext-1"
    assert body["name"] == {"givenName": "Alice", "familyName": "Ng-Park"}
    assert "phoneNumbers" not in body
    assert body["active"] is False


async def test_string_booleans(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    url, _ = await _create(client, practice, token_headers)
    for value, expected in (("False", False), ("True", True), ("false", False), ("true", True)):
        body = await _apply(
            client, url, token_headers, {"op": "Replace", "path": "active", "value": value}
        )
        assert body["active"] is expected
    body = await _apply(client, url, token_headers, {"op": "replace", "value": {"active": "False"}})
    assert body["active"] is False


# (path-less value, expected name, whether userName becomes "renamed").
PATHLESS_VALUES: list[Any] = [
    pytest.param(
        {"name": {"givenName": "X"}},
        {"givenName": "X", "familyName": "Ng"},
        False,
        id="nested-object",
    ),
    pytest.param(
        {"name.givenName": "X"}, {"givenName": "X", "familyName": "Ng"}, False, id="dotted-key"
    ),
    pytest.param(
        {f"{USER_SCHEMA}:userName": "renamed"},
        {"givenName": "Alice", "familyName": "Ng"},
        True,
        id="urn-prefixed-key",
    ),
    pytest.param(
        {f"{USER_SCHEMA}:name.familyName": "Park", f"{USER_SCHEMA}:name": {"givenName": "Z"}},
        {"givenName": "Z", "familyName": "Park"},
        False,
        id="urn-prefixed-nested-and-dotted",
    ),
    pytest.param(
        {"Name": {"GivenName": "P"}, "UserName": "renamed"},
        {"givenName": "P", "familyName": "Ng"},
        True,
        id="pascal-case-keys",
    ),
    pytest.param(
        # Entra's aadOptscim062020 multi-attribute replace (E-06).
        {
            "displayName": "Alice Ng-Park",
            "name.givenName": "Alicia",
            "name.familyName": "Ng-Park",
            f"{ENTERPRISE}:employeeNumber": "100482",
        },
        {"givenName": "Alicia", "familyName": "Ng-Park"},
        False,
        id="entra-flagged-dialect",
    ),
]


@pytest.mark.parametrize(("value", "name", "renamed"), PATHLESS_VALUES)
async def test_pathless_values(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    value: dict[str, Any],
    name: dict[str, str],
    renamed: bool,
) -> None:
    url, created = await _create(client, practice, token_headers)
    new_name = _unique("renamed")
    value = {k: new_name if v == "renamed" else v for k, v in value.items()}
    body = await _apply(client, url, token_headers, {"op": "replace", "value": value})
    assert body["name"] == name
    assert body["userName"] == (new_name if renamed else created["userName"])
    assert set(body) == set(created)
    assert "name.givenName" not in body["name"]
    read = await client.get(url, headers=token_headers)
    assert read.json() == body


IGNORED_OPERATIONS: list[Any] = [
    pytest.param(
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "4e1b7c2a-0d55-4a0e"},
        id="enterprise-manager-bare-string",
    ),
    pytest.param(
        {"op": "Add", "path": "manager", "value": [{"$ref": None, "value": "4e1b7c2a"}]},
        id="older-manager-form",
    ),
    pytest.param(
        {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Infra"},
        id="enterprise-department",
    ),
    pytest.param({"op": "remove", "path": f"{ENTERPRISE}:employeeNumber"}, id="enterprise-remove"),
    pytest.param(
        {
            "op": "Add",
            "path": "roles",
            "value": [{"value": '{"id":"7d3c","value":"Admin","displayName":"Admin"}'}],
        },
        id="roles-json-string",
    ),
    pytest.param(
        {"op": "Add", "path": 'addresses[type eq "work"].locality', "value": "Oslo"},
        id="address-locality",
    ),
    pytest.param(
        {
            "op": "replace",
            "value": {
                f"{ENTERPRISE}:employeeNumber": "1",
                ENTERPRISE: {"department": "Ops", "manager": "bare"},
                "title": "Boss",
            },
        },
        id="pathless-extension-keys",
    ),
    pytest.param(
        {"op": "replace", "path": "name.middleName", "value": ["not", "a", "string"]},
        id="unkept-sub-attribute-any-shape",
    ),
]


@pytest.mark.parametrize("operation", IGNORED_OPERATIONS)
async def test_attributes_the_platform_does_not_keep_are_ignored(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    operation: dict[str, Any],
) -> None:
    url, created = await _create(client, practice, token_headers)
    response = await client.patch(url, json=_patch(operation), headers=token_headers)
    assert response.status_code == 200, response.text
    assert response.json() == created
    assert response.headers["etag"] == 'W/"1"'


@pytest.mark.parametrize(
    ("path", "value", "expected", "stored"),
    [
        pytest.param(
            'phoneNumbers[type eq "mobile"].value',
            "555",
            {"phoneNumbers": [{"value": "555", "type": "mobile"}]},
            {"cell_phone": "555", "email": None},
            id="mobile",
        ),
        pytest.param(
            'emails[type eq "work"].value',
            "a@x.org",
            {"emails": [{"value": "a@x.org", "type": "work", "primary": True}]},
            {"cell_phone": None, "email": "a@x.org"},
            id="work-email",
        ),
    ],
)
async def test_add_to_a_filtered_path_creates_the_element(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    practice: PracticeFixture,
    token_headers: dict[str, str],
    path: str,
    value: str,
    expected: dict[str, Any],
    stored: dict[str, str | None],
) -> None:
    """E-07: Entra writes an empty multi-valued attribute with Add on a filter path."""
    url, created = await _create(client, practice, token_headers)
    body = await _apply(client, url, token_headers, {"op": "Add", "path": path, "value": value})
    assert {k: body.get(k) for k in expected} == expected
    staff = await store.staff.get(UUID(practice.id), UUID(created["id"]))
    assert staff is not None
    assert {"cell_phone": staff.profile.cell_phone, "email": staff.profile.email} == stored


async def test_several_operations_merge_into_one_element(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    url, _ = await _create(client, practice, token_headers, {"schemas": [USER_SCHEMA]})
    body = await _apply(
        client,
        url,
        token_headers,
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": "bare@x.org"},
        {"op": "Add", "path": 'emails[type eq "work"].primary', "value": "True"},
        {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "555 0100"},
        {"op": "Replace", "path": 'phoneNumbers[type eq "mobile"].value', "value": "555 0199"},
        {"op": "Add", "path": "name.givenName", "value": "Bare"},
        {"op": "Add", "path": "name.familyName", "value": "Foot"},
    )
    assert body["emails"] == [{"value": "bare@x.org", "type": "work", "primary": True}]
    assert body["phoneNumbers"] == [{"value": "555 0199", "type": "mobile"}]
    assert body["name"] == {"givenName": "Bare", "familyName": "Foot"}


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param({"op": "remove", "path": "name.givenName"}, id="remove"),
        pytest.param(
            {"op": "replace", "path": "name.givenName", "value": None}, id="replace-with-null"
        ),
        pytest.param({"op": "replace", "value": {"name": {"givenName": None}}}, id="pathless-null"),
    ],
)
async def test_removing_a_given_name(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    operation: dict[str, Any],
) -> None:
    url, _ = await _create(client, practice, token_headers)
    body = await _apply(client, url, token_headers, operation)
    assert body["name"] == {"familyName": "Ng"}
    assert (await client.get(url, headers=token_headers)).json()["name"] == {"familyName": "Ng"}


@pytest.mark.parametrize(
    ("bad", "scim_type"),
    [
        pytest.param(
            {"op": "replace", "path": "userName", "value": ""}, "invalidValue", id="blank"
        ),
        pytest.param({"op": "replace", "path": "id", "value": "x"}, "mutability", id="id"),
        pytest.param(
            {"op": "replace", "path": "active", "value": "maybe"}, "invalidValue", id="bad-boolean"
        ),
        pytest.param({"op": "add", "path": "name..x", "value": "x"}, "invalidPath", id="bad-path"),
        pytest.param({"op": "remove"}, "noTarget", id="remove-without-path"),
    ],
)
async def test_a_patch_is_atomic(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    bad: dict[str, Any],
    scim_type: str,
) -> None:
    url, created = await _create(client, practice, token_headers)
    response = await client.patch(
        url,
        json=_patch(
            {"op": "replace", "path": "active", "value": False},
            {"op": "replace", "path": "name.givenName", "value": "Changed"},
            bad,
        ),
        headers=token_headers,
    )
    assert response.status_code == 400
    error = response.json()
    assert error["schemas"] == [ERROR_SCHEMA]
    assert error["status"] == "400"
    assert error["scimType"] == scim_type
    read = await client.get(url, headers=token_headers)
    assert read.json() == created
    assert read.headers["etag"] == 'W/"1"'


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param({"op": "replace", "path": "id", "value": "x"}, id="id"),
        pytest.param(
            {"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"},
            id="meta.created",
        ),
        pytest.param({"op": "replace", "path": "meta", "value": {}}, id="meta"),
        pytest.param(
            {"op": "add", "path": "groups", "value": [{"value": "some-group"}]}, id="groups"
        ),
    ],
)
async def test_read_only_attributes_are_mutability_errors(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    operation: dict[str, Any],
) -> None:
    """RFC 7644 §3.5.2: a client MUST NOT modify a readOnly attribute (RFC 7643 §4.1.2 for
    ``groups``)."""
    url, created = await _create(client, practice, token_headers)
    response = await client.patch(url, json=_patch(operation), headers=token_headers)
    assert response.status_code == 400, response.text
    assert response.json()["scimType"] == "mutability"
    assert (await client.get(url, headers=token_headers)).json() == created


@pytest.mark.parametrize(
    "path", ["members[[", "name..x", 'emails[type eq "work"', "userName]", "   ", ""]
)
async def test_malformed_paths_are_invalid_path(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    path: str,
) -> None:
    url, created = await _create(client, practice, token_headers)
    response = await client.patch(
        url,
        json=_patch({"op": "replace", "path": path, "value": {"active": False}}),
        headers=token_headers,
    )
    assert response.status_code == 400, response.text
    assert response.json()["scimType"] == "invalidPath"
    assert (await client.get(url, headers=token_headers)).json() == created


@pytest.mark.parametrize("op", ["frobnicate", None, 5, ""])
async def test_unknown_op_is_invalid_value(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    op: Any,
) -> None:
    url, created = await _create(client, practice, token_headers)
    response = await client.patch(
        url, json=_patch({"op": op, "path": "active", "value": False}), headers=token_headers
    )
    assert response.status_code == 400
    error = response.json()
    assert error["schemas"] == [ERROR_SCHEMA]
    assert error["status"] == "400"
    assert error["scimType"] == "invalidValue"
    assert "Traceback" not in response.text
    assert (await client.get(url, headers=token_headers)).json() == created


async def test_unknown_keys_inside_an_operation_are_ignored(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    url, _ = await _create(client, practice, token_headers)
    body = await _apply(
        client,
        url,
        token_headers,
        {"op": "replace", "path": "active", "value": False, "name": "addMember"},
        {"Op": "Replace", "Path": "name.givenName", "Value": "Ally", "$ref": None},
    )
    assert body["active"] is False
    assert body["name"] == {"givenName": "Ally", "familyName": "Ng"}


async def test_prefer_return_minimal_answers_204_with_an_etag(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    url, _ = await _create(client, practice, token_headers)
    response = await client.patch(
        url,
        json=_patch({"op": "replace", "path": "active", "value": False}),
        headers={**token_headers, "Prefer": "return=minimal"},
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["etag"] == 'W/"2"'
    assert (await client.get(url, headers=token_headers)).json()["active"] is False


async def test_if_match_accepts_a_list_of_tags(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    url, _ = await _create(client, practice, token_headers)
    response = await client.patch(
        url,
        json=_patch({"op": "replace", "path": "active", "value": False}),
        headers={**token_headers, "If-Match": 'W/"1", W/"2"'},
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == 'W/"2"'
    stale = await client.patch(
        url,
        json=_patch({"op": "replace", "path": "active", "value": True}),
        headers={**token_headers, "If-Match": 'W/"0", W/"1"'},
    )
    assert stale.status_code == 412
    assert stale.json()["schemas"] == [ERROR_SCHEMA]


@pytest.mark.parametrize("tag", ['W/"1"', "*"])
async def test_if_none_match_that_matches_fails_a_patch(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    tag: str,
) -> None:
    url, created = await _create(client, practice, token_headers)
    response = await client.patch(
        url,
        json=_patch({"op": "replace", "path": "active", "value": False}),
        headers={**token_headers, "If-None-Match": tag},
    )
    assert response.status_code == 412
    assert response.json()["status"] == "412"
    assert (await client.get(url, headers=token_headers)).json() == created


async def test_get_with_if_none_match(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    url, _ = await _create(client, practice, token_headers)
    await _apply(client, url, token_headers, {"op": "replace", "path": "active", "value": False})
    current = await client.get(url, headers={**token_headers, "If-None-Match": 'W/"2"'})
    assert current.status_code == 304
    assert current.content == b""
    assert current.headers["etag"] == 'W/"2"'
    stale = await client.get(url, headers={**token_headers, "If-None-Match": 'W/"1"'})
    assert stale.status_code == 200
    assert stale.json()["active"] is False
    assert stale.headers["etag"] == 'W/"2"'


async def test_put_replaces_and_ignores_read_only_attributes(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    practice: PracticeFixture,
    token_headers: dict[str, str],
) -> None:
    url, created = await _create(
        client,
        practice,
        token_headers,
        {
            **ALICE,
            "externalId": "ext-1",
            "emails": [{"value": "alice@x.org", "type": "work", "primary": True}],
            "phoneNumbers": [{"value": "555", "type": "mobile"}],
        },
    )
    group = await client.post(
        f"{practice.scim_path}/Groups",
        json={
            "schemas": [GROUP_SCHEMA],
            "displayName": "Nurses",
            "members": [{"value": created["id"]}],
        },
        headers=token_headers,
    )
    assert group.status_code == 201
    # Okta's GET-then-PUT (O-04): the full object, read-only attributes included.
    response = await client.put(
        url,
        json={
            "schemas": [USER_SCHEMA],
            "id": "00000000-0000-4000-8000-000000000000",
            "meta": {"version": 'W/"42"', "created": "2001-01-01T00:00:00Z"},
            "groups": [],
            "password": "hunter2-hunter2",
            "userName": created["userName"],
            "name": {"givenName": "Alice", "familyName": "Ng", "middleName": "Q"},
            "emails": [{"value": "alice@y.org", "type": "work", "primary": True}],
        },
        headers=token_headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == created["id"]
    assert body["meta"]["created"] == created["meta"]["created"]
    assert body["meta"]["version"] == 'W/"2"'
    assert body["emails"] == [{"value": "alice@y.org", "type": "work", "primary": True}]
    assert body["name"] == {"givenName": "Alice", "familyName": "Ng"}
    assert "phoneNumbers" not in body
    assert "externalId" not in body
    assert [g["display"] for g in body["groups"]] == ["Nurses"]
    assert (await client.get(url, headers=token_headers)).json() == body
    staff = await store.staff.get(UUID(practice.id), UUID(created["id"]))
    assert staff is not None
    assert not staff.has_password
    assert staff.profile.cell_phone is None


async def test_put_with_active_false_deactivates(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    """O-06: Okta AIW deactivates with a PUT of the full user."""
    url, created = await _create(client, practice, token_headers)
    full = {k: v for k, v in created.items() if k != "meta"}
    response = await client.put(url, json={**full, "active": False}, headers=token_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["active"] is False
    assert {k: v for k, v in body.items() if k not in {"active", "meta"}} == {
        k: v for k, v in created.items() if k not in {"active", "meta"}
    }
    back = await client.put(url, json={**full, "active": "True"}, headers=token_headers)
    assert back.json()["active"] is True


async def test_put_understands_pascal_case(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    url, _ = await _create(client, practice, token_headers)
    user_name = _unique("Alice.Ng")
    response = await client.put(
        url,
        json={
            "Schemas": [USER_SCHEMA],
            "UserName": user_name,
            "Active": False,
            "Name": {"GivenName": "Alice", "FamilyName": "Ng"},
            "Emails": [{"Primary": True, "Type": "work", "Value": "alice.ng@x.org"}],
            "PhoneNumbers": [{"Type": "mobile", "Value": "555"}],
        },
        headers=token_headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["userName"] == user_name
    assert body["active"] is False
    assert body["name"] == {"givenName": "Alice", "familyName": "Ng"}
    assert body["emails"] == [{"value": "alice.ng@x.org", "type": "work", "primary": True}]
    assert body["phoneNumbers"] == [{"value": "555", "type": "mobile"}]
