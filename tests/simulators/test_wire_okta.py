"""The exact requests Okta's dialects send (idp-behaviors §2), pinned with respx."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from simulators.core.directory import Person
from simulators.okta import OKTA, OKTA_AIW
from tests.simulators.harness import harness

if TYPE_CHECKING:
    import httpx
    import respx

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def bo(**extra: Any) -> Person:
    values = {
        "key": "bo",
        "user_name": "bo@northside.example",
        "given_name": "Bo",
        "family_name": "Ferreira",
        "email": "bo@northside.example",
    }
    return Person(**(values | extra))


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def query(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query.decode())


async def test_api_credentials_test_is_a_paged_list_without_filter(
    router: respx.MockRouter,
) -> None:
    h = harness(router, OKTA)
    report = await h.sync.test_connection()
    (probe,) = h.server.requests
    assert query(probe) == [("startIndex", "1"), ("count", "1")]
    assert report.ok


async def test_lookup_pages_and_create_carries_password_groups_and_okta_id(
    router: respx.MockRouter,
) -> None:
    h = harness(router, OKTA)
    person = h.directory.add_person(bo())
    await h.sync.run_cycle()
    lookup, create = h.server.requests
    assert query(lookup) == [
        ("filter", 'userName eq "bo@northside.example"'),
        ("startIndex", "1"),
        ("count", "100"),
    ]
    assert lookup.headers["user-agent"] == "Okta SCIM Client 1.0.0"
    assert lookup.headers["accept"] == "application/scim+json"
    sent = body(create)
    assert sent["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User"]
    assert sent["externalId"] == person.okta_id
    assert sent["externalId"].startswith("00u")
    assert len(sent["externalId"]) == 20
    assert sent["groups"] == []
    assert isinstance(sent["password"], str)
    assert sent["active"] is True
    assert create.headers["content-type"] == "application/scim+json; charset=utf-8"


async def test_a_404_lookup_counts_as_not_found(router: respx.MockRouter) -> None:
    h = harness(router, OKTA)
    h.server.miss_status = 404
    h.directory.add_person(bo())
    report = await h.sync.run_cycle()
    assert [r.method for r in h.server.requests] == ["GET", "POST"]
    assert report.failures == {}


async def test_oin_deactivates_with_a_pathless_replace_and_never_deletes(
    router: respx.MockRouter,
) -> None:
    h = harness(router, OKTA)
    h.directory.add_person(bo())
    await h.sync.run_cycle()
    h.directory.disable("bo")
    await h.sync.run_cycle()
    h.directory.enable("bo")
    await h.sync.run_cycle()
    h.directory.soft_delete("bo", now=h.clock.now())
    h.directory.purge("bo")
    await h.sync.run_cycle()
    off, on, gone = h.server.sent("PATCH")
    assert body(off) == {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "value": {"active": False}}],
    }
    assert body(on)["Operations"] == [{"op": "replace", "value": {"active": True}}]
    assert body(gone)["Operations"] == [{"op": "replace", "value": {"active": False}}]
    assert h.server.sent("DELETE") == []


async def test_oin_profile_update_is_get_then_put_of_the_whole_object(
    router: respx.MockRouter,
) -> None:
    h = harness(router, OKTA)
    h.directory.add_person(bo(middle_name="R"))
    await h.sync.run_cycle()
    h.directory.update_person("bo", middle_name="Rui")
    await h.sync.run_cycle()
    get, put = h.server.requests[-2:]
    server_id = h.sync.objects.server_id("bo")
    assert (get.method, get.url.path) == ("GET", f"/scim/v2/Users/{server_id}")
    assert put.method == "PUT"
    sent = body(put)
    assert sent["id"] == server_id
    assert sent["meta"] == {"resourceType": "User"}
    assert sent["groups"] == []
    assert sent["name"] == {"givenName": "Bo", "middleName": "Rui", "familyName": "Ferreira"}
    assert sent["active"] is True
    assert "password" not in sent


async def test_aiw_deactivates_with_put(router: respx.MockRouter) -> None:
    h = harness(router, OKTA_AIW)
    h.directory.add_person(bo())
    await h.sync.run_cycle()
    h.directory.disable("bo")
    await h.sync.run_cycle()
    (put,) = h.server.sent("PUT")
    assert body(put)["active"] is False
    assert body(put)["userName"] == "bo@northside.example"
    assert h.server.sent("PATCH") == []


async def test_group_push_membership_delta_then_pathless_rename(router: respx.MockRouter) -> None:
    h = harness(router, OKTA)
    for key in ("ana", "ben", "cai"):
        h.directory.add_person(bo(key=key, user_name=f"{key}@northside.example"))
    h.directory.add_group("oncall", "eng-oncall", ["ana", "ben"])
    await h.sync.run_cycle()
    h.directory.change_members("oncall", add=["cai"], remove=["ana"])
    await h.sync.run_cycle()
    groups = [r for r in h.server.requests if "/Groups" in r.url.path]
    lookup, create, first_delta, first_rename, delta, rename = groups
    assert query(lookup) == [("filter", 'displayName eq "eng-oncall"')]
    assert body(create) == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "externalId": h.directory.group("oncall").object_id,
        "displayName": "eng-oncall",
        "members": [],
    }
    ids = {k: h.sync.objects.server_id(k) for k in ("ana", "ben", "cai")}
    assert body(delta)["Operations"] == [
        {"op": "remove", "path": f'members[value eq "{ids["ana"]}"]'},
        {
            "op": "add",
            "path": "members",
            "value": [{"value": ids["cai"], "display": "cai@northside.example"}],
        },
    ]
    group_id = h.sync.objects.groups["oncall"].server_id
    for patch in (first_rename, rename):
        assert body(patch)["Operations"] == [
            {"op": "replace", "value": {"id": group_id, "displayName": "eng-oncall"}}
        ]
    assert first_delta.method == "PATCH"


async def test_aiw_pushes_groups_with_put(router: respx.MockRouter) -> None:
    h = harness(router, OKTA_AIW)
    h.directory.add_person(bo())
    h.directory.add_group("oncall", "eng-oncall", ["bo"])
    await h.sync.run_cycle()
    (put,) = h.server.sent("PUT", "/Groups/")
    assert body(put)["members"] == [{"value": h.sync.objects.server_id("bo")}]
    assert body(put)["displayName"] == "eng-oncall"


async def test_an_empty_create_response_is_a_failed_task(router: respx.MockRouter) -> None:
    h = harness(router, OKTA)
    h.server.empty_create = True
    h.directory.add_person(bo())
    report = await h.sync.run_cycle()
    assert "create returned no user" in report.failures["user:bo"].detail
    assert "user:bo" in h.sync.tasks
    await h.sync.run_cycle()
    assert len(h.server.sent("GET")) == 1  # a task is not retried automatically
