"""Text holding U+0000 is refused with a clear 400 on both databases, and changes nothing.

PostgreSQL's ``text`` cannot hold NUL (its driver raised ``CharacterNotInRepertoireError``,
answered as a 500); SQLite stored it. A NUL in a kept attribute, a filter or a credential is
refused before it reaches either, so both databases answer alike. Found by the SCIM fuzz
run on PostgreSQL.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from tests.conftest import PracticeFixture

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
NUL = "a\x00b"
SURROGATE = "a\ud800b"  # what a JSON "\ud800" escape decodes to

USER_BODIES: dict[str, dict[str, Any]] = {
    "userName": {"userName": NUL},
    "givenName": {"userName": "n1@example.com", "name": {"givenName": NUL}},
    "familyName": {"userName": "n2@example.com", "name": {"familyName": NUL}},
    "email": {"userName": "n3@example.com", "emails": [{"value": NUL, "primary": True}]},
    "phone": {"userName": "n4@example.com", "phoneNumbers": [{"value": NUL, "type": "mobile"}]},
    "externalId": {"userName": "n5@example.com", "externalId": NUL},
    "userName surrogate": {"userName": SURROGATE},
    "familyName surrogate": {"userName": "n6@example.com", "name": {"familyName": SURROGATE}},
}


async def _users(client: AsyncTestClient[Any], practice: PracticeFixture, headers: Any) -> Any:
    response = await client.get(f"{practice.scim_path}/Users", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["Resources"]


async def _send(
    client: AsyncTestClient[Any], method: str, url: str, body: Any, headers: dict[str, str]
) -> Any:
    """JSON with ASCII escapes, so a lone surrogate travels as ``\\ud800``, as an IdP's
    serializer would send it."""
    return await client.request(method, url, content=json.dumps(body), headers=headers)


def _refused(response: Any, scim_type: str, *, naming: str | None = None) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == "400"
    assert body["scimType"] == scim_type
    if naming is not None:
        assert naming in body["detail"]


@pytest.mark.parametrize("attribute", sorted(USER_BODIES))
async def test_a_user_with_nul_in_a_kept_attribute_is_refused_on_create_and_replace(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    attribute: str,
) -> None:
    body = {"schemas": [USER_SCHEMA], **USER_BODIES[attribute]}
    # An email is refused as no address at all, before its text is looked at.
    naming = None if attribute == "email" else attribute.split(maxsplit=1)[0]
    posted = await _send(client, "POST", f"{practice.scim_path}/Users", body, token_headers)
    _refused(posted, "invalidValue", naming=naming)
    assert await _users(client, practice, token_headers) == []

    created = await client.post(
        f"{practice.scim_path}/Users",
        json={"schemas": [USER_SCHEMA], "userName": "kept@example.com"},
        headers=token_headers,
    )
    assert created.status_code == 201, created.text
    at = f"{practice.scim_path}/Users/{created.json()['id']}"
    replacement = {**body, "userName": body.get("userName", "kept@example.com")}
    replaced = await _send(client, "PUT", at, replacement, token_headers)
    _refused(replaced, "invalidValue", naming=naming)
    assert (await _users(client, practice, token_headers)) == [created.json()]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("userName", NUL),
        ("name.givenName", NUL),
        ("externalId", NUL),
        ('emails[type eq "work"].value', NUL),
        (None, {"displayName": "x", "name": {"familyName": NUL}}),
    ],
)
async def test_a_patch_writing_nul_is_refused_and_changes_nothing(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    path: str | None,
    value: Any,
) -> None:
    created = await client.post(
        f"{practice.scim_path}/Users",
        json={
            "schemas": [USER_SCHEMA],
            "userName": "patched@example.com",
            "emails": [{"value": "patched@example.com", "type": "work"}],
        },
        headers=token_headers,
    )
    assert created.status_code == 201, created.text
    operation: dict[str, Any] = {"op": "replace", "value": value}
    if path is not None:
        operation["path"] = path
    response = await client.patch(
        f"{practice.scim_path}/Users/{created.json()['id']}",
        json={"schemas": [PATCH_SCHEMA], "Operations": [operation]},
        headers=token_headers,
    )
    _refused(response, "invalidValue", naming=None if path and "emails" in path else "U+0000")
    assert (await _users(client, practice, token_headers)) == [created.json()]


async def test_nul_in_an_ignored_attribute_is_ignored_like_the_rest(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    body = {"schemas": [USER_SCHEMA], "userName": "ignored@example.com", "title": NUL}
    response = await client.post(f"{practice.scim_path}/Users", json=body, headers=token_headers)
    assert response.status_code == 201, response.text
    assert "title" not in response.json()


async def test_a_group_with_nul_is_refused(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    for body in (
        {"displayName": NUL},
        {"displayName": "g", "externalId": NUL},
        {"displayName": SURROGATE},
    ):
        response = await _send(
            client,
            "POST",
            f"{practice.scim_path}/Groups",
            {"schemas": [GROUP_SCHEMA], **body},
            token_headers,
        )
        _refused(
            response, "invalidValue", naming=next(iter(body)) if len(body) == 1 else "externalId"
        )
    listed = await client.get(f"{practice.scim_path}/Groups", headers=token_headers)
    assert listed.json()["totalResults"] == 0


@pytest.mark.parametrize(
    "filter_",
    [
        'userName eq "a\x00b"',
        'userName eq "a\\u0000b"',  # escaped: the string holds a NUL once read
        'name.givenName sw "\x00"',
        'externalId eq "\x00"',
        'emails co "a\x00"',
    ],
)
async def test_a_filter_with_nul_is_refused(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    filter_: str,
) -> None:
    listed = await client.get(
        f"{practice.scim_path}/Users", params={"filter": filter_}, headers=token_headers
    )
    _refused(listed, "invalidFilter")
    groups = await client.get(
        f"{practice.scim_path}/Groups",
        params={"filter": filter_.replace("userName", "displayName")},
        headers=token_headers,
    )
    _refused(groups, "invalidFilter")
    searched = await client.post(
        f"{practice.scim_path}/Users/.search",
        json={"schemas": [SEARCH_SCHEMA], "filter": filter_},
        headers=token_headers,
    )
    _refused(searched, "invalidFilter")


@pytest.mark.parametrize(
    ("resource", "filter_"),
    [
        ("Users", 'userName eq "a\ud800b"'),
        ("Users", 'userName eq "a\\ud800b"'),  # escaped: an unpaired surrogate once read
        ("Users", 'externalId sw "\udfff"'),
        ("Groups", 'displayName eq "\ud800"'),
        ("Groups", 'externalId co "x\ud800"'),
    ],
)
async def test_a_filter_with_an_unpaired_surrogate_is_refused(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    resource: str,
    filter_: str,
) -> None:
    searched = await _send(
        client,
        "POST",
        f"{practice.scim_path}/{resource}/.search",
        {"schemas": [SEARCH_SCHEMA], "filter": filter_},
        token_headers,
    )
    _refused(searched, "invalidFilter", naming="unpaired surrogate")
    if resource == "Users" and "\\" in filter_:  # escaped: a query can carry it
        listed = await client.get(
            f"{practice.scim_path}/Users", params={"filter": filter_}, headers=token_headers
        )
        _refused(listed, "invalidFilter", naming="unpaired surrogate")


@pytest.mark.parametrize("field", ["client_id", "client_secret"])
async def test_a_token_request_with_nul_is_refused_per_rfc_6749(
    client: AsyncTestClient[Any], practice: PracticeFixture, field: str
) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": practice.client_id,
        "client_secret": practice.client_secret,
    }
    form[field] += "\x00"
    response = await client.post("/oauth/token", data=form)
    assert response.status_code in {400, 401}, response.text
    assert response.json()["error"] in {"invalid_request", "invalid_client"}


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "0oa\x00"},
        {"client_secret": "s\x00"},
        {"issuer": "https://idp.example/\x00"},
        {"client_id": SURROGATE},
    ],
)
async def test_an_sso_configuration_with_nul_is_refused(
    client: AsyncTestClient[Any], practice: PracticeFixture, change: dict[str, str]
) -> None:
    url = f"/api/v1/practices/{practice.id}/sso"
    body = {
        "issuer": "https://idp.example/oauth2/default",
        "client_id": "0oa1",
        "client_secret": "shh",
        "link_rule": "sub:externalId",
        **change,
    }
    refused = await _send(client, "PUT", url, body, practice.admin_headers)
    assert refused.status_code == 400, refused.text
    if "\x00" in str(change):  # Litestar's JSON reader refuses a lone surrogate itself
        assert "may not contain" in refused.json()["detail"]
    assert (await client.get(url, headers=practice.admin_headers)).status_code == 404


@pytest.mark.parametrize("field", ["given_name", "family_name", "user_name", "cell_phone"])
async def test_a_staff_edit_with_nul_is_refused(
    client: AsyncTestClient[Any], practice: PracticeFixture, field: str
) -> None:
    api = f"/api/v1/practices/{practice.id}/staff"
    admin = next(
        s
        for s in (await client.get(api, headers=practice.admin_headers)).json()
        if s["is_practice_admin"]
    )
    edited = await _send(
        client, "PATCH", f"{api}/{admin['id']}", {field: NUL}, practice.admin_headers
    )
    assert edited.status_code == 400, edited.text
    assert field in edited.json()["detail"]
    assert (await client.get(f"{api}/{admin['id']}", headers=practice.admin_headers)).json() == (
        admin
    )
