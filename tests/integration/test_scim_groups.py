"""``/Groups``: create, find, the three member-removal shapes IdPs send, and tenancy.

Requests follow idp-behaviors §1.6 (Entra) and scenario O-08 (Okta Group Push).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import PUBLIC_URL, PracticeFixture, fetch_token, new_practice

if TYPE_CHECKING:
    from collections.abc import Sequence

    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.settings import Settings

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTRA_GROUP_SCHEMA = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


def _patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


def _members(group: dict[str, Any]) -> set[str]:
    return {m["value"] for m in group.get("members", [])}


async def _user(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    user_name: str,
) -> str:
    response = await client.post(
        f"{practice.scim_path}/Users",
        json={"schemas": [USER_SCHEMA], "userName": user_name},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _group(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    display_name: str,
    members: Sequence[str] = (),
) -> dict[str, Any]:
    response = await client.post(
        f"{practice.scim_path}/Groups",
        json={
            "schemas": [GROUP_SCHEMA],
            "displayName": display_name,
            "members": [{"value": m} for m in members],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _read(
    client: AsyncTestClient[Any], url: str, headers: dict[str, str]
) -> tuple[dict[str, Any], str]:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json()), response.headers["etag"]


async def test_create_answers_201_with_location_etag_and_members(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ada = await _user(client, practice, token_headers, "ada@x.org")
    bo = await _user(client, practice, token_headers, "bo@x.org")
    response = await client.post(
        f"{practice.scim_path}/Groups",
        json={
            "schemas": [GROUP_SCHEMA],
            "displayName": "Nurses",
            "externalId": "3f6c1d0e",
            "members": [{"value": ada}, {"value": bo, "display": "Bo"}],
            "owners": ["ignored"],
        },
        headers=token_headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    base = f"{PUBLIC_URL}/scim/v2/{practice.id}"
    location = f"{base}/Groups/{body['id']}"
    assert response.headers["location"] == location
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["content-type"].startswith("application/scim+json")
    assert set(body) == {"schemas", "id", "externalId", "meta", "displayName", "members"}
    assert body["schemas"] == [GROUP_SCHEMA]
    assert body["displayName"] == "Nurses"
    assert body["externalId"] == "3f6c1d0e"
    assert sorted(body["members"], key=lambda m: m["value"]) == sorted(
        [
            {"value": ada, "$ref": f"{base}/Users/{ada}", "type": "User"},
            {"value": bo, "$ref": f"{base}/Users/{bo}", "type": "User"},
        ],
        key=lambda m: m["value"],
    )
    assert body["meta"]["resourceType"] == "Group"
    assert body["meta"]["location"] == location
    assert body["meta"]["version"] == 'W/"1"'

    read, etag = await _read(client, location.removeprefix(PUBLIC_URL), token_headers)
    assert read == body
    assert etag == 'W/"1"'


async def test_entra_creates_groups_without_members(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    response = await client.post(
        f"{practice.scim_path}/Groups",
        json={
            "schemas": [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA],
            "externalId": "3f6c1d0e-7b2a-4c8e-a1d4-9e0b5c7f2a11",
            "displayName": "Platform Team",
            "meta": {"resourceType": "Group"},
        },
        headers=token_headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["displayName"] == "Platform Team"
    assert body["externalId"] == "3f6c1d0e-7b2a-4c8e-a1d4-9e0b5c7f2a11"
    assert _members(body) == set()


async def test_display_name_is_unique_in_any_case(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    await _group(client, practice, token_headers, "Nurses")
    other = await _group(client, practice, token_headers, "Doctors")
    duplicate = await client.post(
        f"{practice.scim_path}/Groups",
        json={"schemas": [GROUP_SCHEMA], "displayName": "NURSES"},
        headers=token_headers,
    )
    assert duplicate.status_code == 409
    error = duplicate.json()
    assert error["schemas"] == [ERROR_SCHEMA]
    assert error["status"] == "409"
    assert error["scimType"] == "uniqueness"

    url = f"{practice.scim_path}/Groups/{other['id']}"
    renamed = await client.patch(
        url,
        json=_patch({"op": "replace", "path": "displayName", "value": "nurses"}),
        headers=token_headers,
    )
    assert renamed.status_code == 409
    assert renamed.json()["scimType"] == "uniqueness"
    assert await _read(client, url, token_headers) == (other, 'W/"1"')


async def test_filter_by_display_name_ignores_case_and_can_exclude_members(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ada = await _user(client, practice, token_headers, "ada@x.org")
    team = await _group(client, practice, token_headers, "Platform Team", [ada])
    await _group(client, practice, token_headers, "Platform Ops", [ada])

    response = await client.get(
        f"{practice.scim_path}/Groups",
        params={"excludedAttributes": "members", "filter": 'displayName eq "platform TEAM"'},
        headers=token_headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["schemas"] == [LIST_SCHEMA]
    assert body["totalResults"] == 1
    [found] = body["Resources"]
    assert found["id"] == team["id"]
    assert found["displayName"] == "Platform Team"
    assert "members" not in found

    with_members = await client.get(
        f"{practice.scim_path}/Groups",
        params={"filter": 'displayName eq "Platform Team"'},
        headers=token_headers,
    )
    assert [_members(g) for g in with_members.json()["Resources"]] == [{ada}]

    single = await client.get(
        f"{practice.scim_path}/Groups/{team['id']}",
        params={"excludedAttributes": "members"},
        headers=token_headers,
    )
    assert single.status_code == 200
    assert "members" not in single.json()
    assert single.json()["displayName"] == "Platform Team"


async def test_entra_test_connection_on_groups_is_an_empty_list(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    await _group(client, practice, token_headers, "Nurses")
    response = await client.get(
        f"{practice.scim_path}/Groups",
        params={
            "excludedAttributes": "members",
            "filter": 'displayName eq "0b7e4d2c-5f1a-4e9b-8c3d-2a6f1e0d9b47"',
        },
        headers=token_headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [LIST_SCHEMA]
    assert body["totalResults"] == 0
    assert body.get("Resources", []) == []


async def test_remove_by_value_filter_path_removes_that_member(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ids = [await _user(client, practice, token_headers, f"m{i}@x.org") for i in range(3)]
    group = await _group(client, practice, token_headers, "Nurses", ids)
    response = await client.patch(
        f"{practice.scim_path}/Groups/{group['id']}",
        json=_patch({"op": "remove", "path": f'members[value eq "{ids[1]}"]'}),
        headers=token_headers,
    )
    assert response.status_code == 200, response.text
    assert _members(response.json()) == {ids[0], ids[2]}
    assert response.headers["etag"] == 'W/"2"'


async def test_entra_default_removal_removes_only_the_listed_members(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    """E-10: Add two, Remove one with a value list; the group keeps the other."""
    ids = [await _user(client, practice, token_headers, f"m{i}@x.org") for i in range(4)]
    group = await _group(client, practice, token_headers, "Platform Team")
    url = f"{practice.scim_path}/Groups/{group['id']}"

    added = await client.patch(
        url,
        json=_patch(
            {"op": "Add", "path": "members", "value": [{"value": i} for i in ids]},
        ),
        headers=token_headers,
    )
    assert _members(added.json()) == set(ids)

    removed = await client.patch(
        url,
        json=_patch(
            {"op": "Remove", "path": "members", "value": [{"value": ids[0]}, {"value": ids[2]}]}
        ),
        headers=token_headers,
    )
    assert removed.status_code == 200, removed.text
    assert _members(removed.json()) == {ids[1], ids[3]}

    removed = await client.patch(
        url,
        json=_patch({"op": "Remove", "path": "members", "value": [{"value": ids[1]}]}),
        headers=token_headers,
    )
    assert _members(removed.json()) == {ids[3]}

    # Removing someone who is not a member changes nothing.
    absent = await client.patch(
        url,
        json=_patch({"op": "Remove", "path": "members", "value": [{"value": ids[0]}]}),
        headers=token_headers,
    )
    assert absent.status_code == 200
    assert _members(absent.json()) == {ids[3]}
    assert _members((await _read(client, url, token_headers))[0]) == {ids[3]}


async def test_replace_members_replaces_the_whole_list(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ids = [await _user(client, practice, token_headers, f"m{i}@x.org") for i in range(3)]
    group = await _group(client, practice, token_headers, "Nurses", ids[:2])
    url = f"{practice.scim_path}/Groups/{group['id']}"
    replaced = await client.patch(
        url,
        json=_patch({"op": "replace", "path": "members", "value": [{"value": ids[2]}]}),
        headers=token_headers,
    )
    assert replaced.status_code == 200, replaced.text
    assert _members(replaced.json()) == {ids[2]}
    emptied = await client.patch(
        url,
        json=_patch({"op": "replace", "path": "members", "value": []}),
        headers=token_headers,
    )
    assert emptied.status_code == 200
    assert _members(emptied.json()) == set()
    assert replaced.json()["displayName"] == emptied.json()["displayName"] == "Nurses"


async def test_add_members_adds_and_repeating_it_is_harmless(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ids = [await _user(client, practice, token_headers, f"m{i}@x.org") for i in range(3)]
    group = await _group(client, practice, token_headers, "Nurses", [ids[0]])
    url = f"{practice.scim_path}/Groups/{group['id']}"
    operation = {"op": "Add", "path": "members", "value": [{"value": ids[1]}, {"value": ids[2]}]}
    added = await client.patch(url, json=_patch(operation), headers=token_headers)
    assert added.status_code == 200, added.text
    assert _members(added.json()) == set(ids)
    assert added.headers["etag"] == 'W/"2"'

    again = await client.patch(url, json=_patch(operation), headers=token_headers)
    assert again.status_code == 200
    assert len(again.json()["members"]) == 3
    assert again.headers["etag"] == 'W/"2"'


async def test_okta_group_push_sequence(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    """O-08: remove + add in one PATCH, then the path-less rename with the id, twice."""
    ids = [await _user(client, practice, token_headers, f"m{i}@x.org") for i in range(3)]
    group = await _group(client, practice, token_headers, "eng-oncall", ids[:2])
    url = f"{practice.scim_path}/Groups/{group['id']}"
    swapped = await client.patch(
        url,
        json=_patch(
            {"op": "remove", "path": f'members[value eq "{ids[0]}"]'},
            {"op": "add", "path": "members", "value": [{"value": ids[2]}]},
        ),
        headers=token_headers,
    )
    assert swapped.status_code == 200, swapped.text
    assert _members(swapped.json()) == {ids[1], ids[2]}

    rename = _patch({"op": "replace", "value": {"id": group["id"], "displayName": "eng-oncall-2"}})
    first = await client.patch(url, json=rename, headers=token_headers)
    assert first.status_code == 200, first.text
    assert first.json()["displayName"] == "eng-oncall-2"
    assert first.json()["id"] == group["id"]
    assert _members(first.json()) == {ids[1], ids[2]}
    assert first.headers["etag"] == 'W/"3"'

    second = await client.patch(url, json=rename, headers=token_headers)
    assert second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["etag"] == 'W/"3"'


@pytest.mark.parametrize("stranger", ["other-practice", "unknown-id", "not-a-uuid"])
async def test_members_must_be_users_of_the_same_practice(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    settings: Settings,
    practice: PracticeFixture,
    token_headers: dict[str, str],
    stranger: str,
) -> None:
    ada = await _user(client, practice, token_headers, "ada@x.org")
    bo = await _user(client, practice, token_headers, "bo@x.org")
    if stranger == "other-practice":
        other = await new_practice(client, store, settings)
        other_headers = {
            "Authorization": f"Bearer {await fetch_token(client, other)}",
            "Content-Type": "application/scim+json",
        }
        outsider = await _user(client, other, other_headers, "outsider@x.org")
    elif stranger == "unknown-id":
        outsider = "00000000-0000-4000-8000-000000000000"
    else:
        outsider = "nope"

    group = await _group(client, practice, token_headers, "Nurses", [ada])
    url = f"{practice.scim_path}/Groups/{group['id']}"
    patched = await client.patch(
        url,
        json=_patch(
            {"op": "replace", "path": "displayName", "value": "Changed"},
            {"op": "add", "path": "members", "value": [{"value": bo}, {"value": outsider}]},
        ),
        headers=token_headers,
    )
    assert patched.status_code == 400
    assert patched.json()["schemas"] == [ERROR_SCHEMA]
    assert patched.json()["scimType"] == "invalidValue"
    assert await _read(client, url, token_headers) == (group, 'W/"1"')

    put = await client.put(
        url,
        json={"schemas": [GROUP_SCHEMA], "displayName": "Nurses", "members": [{"value": outsider}]},
        headers=token_headers,
    )
    assert put.status_code == 400
    assert put.json()["scimType"] == "invalidValue"
    assert await _read(client, url, token_headers) == (group, 'W/"1"')

    created = await client.post(
        f"{practice.scim_path}/Groups",
        json={
            "schemas": [GROUP_SCHEMA],
            "displayName": "Doctors",
            "members": [{"value": outsider}],
        },
        headers=token_headers,
    )
    assert created.status_code == 400
    assert created.json()["scimType"] == "invalidValue"
    # Nothing was written: the name is still free.
    await _group(client, practice, token_headers, "Doctors")


async def test_a_user_shows_its_groups_read_only(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ada = await _user(client, practice, token_headers, "ada@x.org")
    nurses = await _group(client, practice, token_headers, "Nurses", [ada])
    night = await _group(client, practice, token_headers, "Night Shift", [ada])
    await _group(client, practice, token_headers, "Doctors")
    base = f"{PUBLIC_URL}/scim/v2/{practice.id}"
    user_url = f"{practice.scim_path}/Users/{ada}"

    def expected(*groups: dict[str, Any]) -> list[dict[str, Any]]:
        return sorted(
            (
                {
                    "value": g["id"],
                    "display": g["displayName"],
                    "$ref": f"{base}/Groups/{g['id']}",
                    "type": "direct",
                }
                for g in groups
            ),
            key=lambda m: m["value"],
        )

    user, _ = await _read(client, user_url, token_headers)
    assert sorted(user["groups"], key=lambda m: m["value"]) == expected(nurses, night)

    # A body's groups are ignored: memberships change through /Groups only.
    put = await client.put(
        user_url,
        json={"schemas": [USER_SCHEMA], "userName": "ada@x.org", "groups": []},
        headers=token_headers,
    )
    assert put.status_code == 200, put.text
    assert sorted(put.json()["groups"], key=lambda m: m["value"]) == expected(nurses, night)

    # Deactivation keeps memberships (idp-behaviors §1.5, reactivation).
    off = await client.patch(
        user_url,
        json=_patch({"op": "Replace", "path": "active", "value": "False"}),
        headers=token_headers,
    )
    assert off.json()["active"] is False
    assert len(off.json()["groups"]) == 2

    renamed = await client.patch(
        f"{practice.scim_path}/Groups/{nurses['id']}",
        json=_patch({"op": "replace", "path": "displayName", "value": "Senior Nurses"}),
        headers=token_headers,
    )
    assert renamed.status_code == 200
    user, _ = await _read(client, user_url, token_headers)
    assert {g["display"] for g in user["groups"]} == {"Senior Nurses", "Night Shift"}


async def test_deleting_a_user_removes_it_from_its_groups(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ada = await _user(client, practice, token_headers, "ada@x.org")
    bo = await _user(client, practice, token_headers, "bo@x.org")
    group = await _group(client, practice, token_headers, "Nurses", [ada, bo])
    url = f"{practice.scim_path}/Groups/{group['id']}"
    deleted = await client.delete(f"{practice.scim_path}/Users/{ada}", headers=token_headers)
    assert deleted.status_code == 204
    after, _ = await _read(client, url, token_headers)
    assert _members(after) == {bo}
    by_member = await client.get(
        f"{practice.scim_path}/Groups",
        params={"filter": f'members[value eq "{ada}"]'},
        headers=token_headers,
    )
    assert by_member.status_code == 200, by_member.text
    assert by_member.json()["totalResults"] == 0


async def test_a_group_changed_by_a_user_deletion_gets_a_new_version(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    """RFC 7644 §3.14 / RFC 7232 §2.1: the members changed, so the entity tag must too."""
    ada = await _user(client, practice, token_headers, "ada@x.org")
    group = await _group(client, practice, token_headers, "Nurses", [ada])
    url = f"{practice.scim_path}/Groups/{group['id']}"
    await client.delete(f"{practice.scim_path}/Users/{ada}", headers=token_headers)
    cached = await client.get(url, headers={**token_headers, "If-None-Match": 'W/"1"'})
    assert cached.status_code == 200
    assert _members(cached.json()) == set()
    assert cached.headers["etag"] != 'W/"1"'


async def test_delete_answers_204_then_404(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ada = await _user(client, practice, token_headers, "ada@x.org")
    group = await _group(client, practice, token_headers, "Nurses", [ada])
    url = f"{practice.scim_path}/Groups/{group['id']}"
    first = await client.delete(url, headers=token_headers)
    assert first.status_code == 204
    assert first.content == b""
    for _ in range(2):
        missing = await client.get(url, headers=token_headers)
        assert missing.status_code == 404
        assert missing.json()["schemas"] == [ERROR_SCHEMA]
        assert (await client.delete(url, headers=token_headers)).status_code == 404
    patched = await client.patch(
        url,
        json=_patch({"op": "replace", "path": "displayName", "value": "Back"}),
        headers=token_headers,
    )
    assert patched.status_code == 404
    user, _ = await _read(client, f"{practice.scim_path}/Users/{ada}", token_headers)
    assert "groups" not in user
    # The name is free again.
    await _group(client, practice, token_headers, "Nurses")


async def test_put_replaces_display_name_and_members(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ids = [await _user(client, practice, token_headers, f"m{i}@x.org") for i in range(3)]
    response = await client.post(
        f"{practice.scim_path}/Groups",
        json={
            "schemas": [GROUP_SCHEMA],
            "displayName": "Nurses",
            "externalId": "ext-1",
            "members": [{"value": ids[0]}, {"value": ids[1]}],
        },
        headers=token_headers,
    )
    group = response.json()
    url = f"{practice.scim_path}/Groups/{group['id']}"
    put = await client.put(
        url,
        json={
            "schemas": [GROUP_SCHEMA],
            "id": "someone-else",
            "meta": {"version": 'W/"42"'},
            "displayName": "Night Nurses",
            "members": [{"value": ids[2]}],
        },
        headers=token_headers,
    )
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["id"] == group["id"]
    assert body["displayName"] == "Night Nurses"
    assert _members(body) == {ids[2]}
    assert "externalId" not in body
    assert put.headers["etag"] == 'W/"2"'
    assert await _read(client, url, token_headers) == (body, 'W/"2"')


async def test_filter_by_member_finds_the_users_groups(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ada = await _user(client, practice, token_headers, "ada@x.org")
    bo = await _user(client, practice, token_headers, "bo@x.org")
    nurses = await _group(client, practice, token_headers, "Nurses", [ada, bo])
    night = await _group(client, practice, token_headers, "Night Shift", [ada])
    await _group(client, practice, token_headers, "Doctors", [bo])
    await _group(client, practice, token_headers, "Empty")
    for text in (f'members[value eq "{ada}"]', f'members.value eq "{ada}"'):
        response = await client.get(
            f"{practice.scim_path}/Groups", params={"filter": text}, headers=token_headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["totalResults"] == 2
        assert {g["id"] for g in body["Resources"]} == {nurses["id"], night["id"]}
    with_members = await client.get(
        f"{practice.scim_path}/Groups", params={"filter": "members pr"}, headers=token_headers
    )
    assert with_members.json()["totalResults"] == 3


async def test_paging_and_sorting_by_display_name(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    for name in ("charlie", "Alpha", "delta", "Bravo"):
        await _group(client, practice, token_headers, name)
    url = f"{practice.scim_path}/Groups"

    async def names(**params: Any) -> list[str]:
        response = await client.get(url, params=params, headers=token_headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["totalResults"] == 4
        assert body["itemsPerPage"] == len(body.get("Resources", []))
        assert body["startIndex"] == int(params.get("startIndex", 1))
        return [g["displayName"] for g in body.get("Resources", [])]

    assert await names(sortBy="displayName") == ["Alpha", "Bravo", "charlie", "delta"]
    assert await names(sortBy="displayName", sortOrder="descending") == [
        "delta",
        "charlie",
        "Bravo",
        "Alpha",
    ]
    pages = [await names(sortBy="displayName", startIndex=start, count=2) for start in (1, 3, 5)]
    assert pages == [["Alpha", "Bravo"], ["charlie", "delta"], []]
    bad = await client.get(url, params={"sortBy": "userName"}, headers=token_headers)
    assert bad.status_code == 400
    assert bad.json()["scimType"] == "invalidValue"


async def test_a_users_groups_come_in_display_name_order_in_every_answer(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ada = await _user(client, practice, token_headers, "ada.order@x.org")
    for name in ("nurses", "Zeta", "Ärzte", "alpha", "Beta", "_on call"):
        await _group(client, practice, token_headers, name, [ada])
    # By the display name's case-folded key in code point order, on either database.
    wanted = ["_on call", "alpha", "Beta", "nurses", "Zeta", "Ärzte"]
    user, _ = await _read(client, f"{practice.scim_path}/Users/{ada}", token_headers)
    assert [g["display"] for g in user["groups"]] == wanted
    found = await client.get(
        f"{practice.scim_path}/Users",
        params={"filter": 'userName eq "ada.order@x.org"'},
        headers=token_headers,
    )
    [listed] = found.json()["Resources"]
    assert [g["display"] for g in listed["groups"]] == wanted
