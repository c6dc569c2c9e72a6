"""The exact requests Entra's dialects send (idp-behaviors §1), pinned with respx."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from simulators.core.directory import Person
from simulators.core.registry import make_dialect
from simulators.entra import ENTRA, ENTRA_FLAGGED
from tests.simulators.harness import harness

if TYPE_CHECKING:
    import httpx
    import respx

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def mara(**extra: Any) -> Person:
    values = {
        "key": "mara",
        "user_name": "mara.quinn@sunrise.example",
        "given_name": "Mara",
        "family_name": "Quinn",
        "email": "mara.quinn@sunrise.example",
        "mobile": "+1 206 555 0147",
        "work_phone": "+1 206 555 0100",
        "employee_number": "70412",
    }
    return Person(**(values | extra))


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


async def test_connection_test_filters_a_guid_on_users_and_groups(router: respx.MockRouter) -> None:
    h = harness(router, ENTRA)
    report = await h.sync.test_connection("5d1c0e2a-0000-4000-8000-000000000001")
    users, groups = h.server.requests
    assert list(users.url.params.multi_items()) == [
        ("filter", 'userName eq "5d1c0e2a-0000-4000-8000-000000000001"')
    ]
    assert groups.url.path.endswith("/Groups")
    assert list(groups.url.params.multi_items()) == [
        ("excludedAttributes", "members"),
        ("filter", 'displayName eq "5d1c0e2a-0000-4000-8000-000000000001"'),
    ]
    assert report.ok
    assert not report.quarantine_worthy


async def test_a_404_to_the_connection_filter_is_quarantine_worthy(
    router: respx.MockRouter,
) -> None:
    h = harness(router, ENTRA)
    h.server.miss_status = 404
    report = await h.sync.test_connection()
    assert report.quarantine_worthy
    assert not report.ok


async def test_lookup_sends_no_paging_and_create_follows_the_default_mappings(
    router: respx.MockRouter,
) -> None:
    h = harness(router, ENTRA)
    h.directory.add_person(mara())
    await h.sync.run_cycle()
    lookup, create = h.server.requests
    assert list(lookup.url.params.multi_items()) == [
        ("filter", 'userName eq "mara.quinn@sunrise.example"')
    ]
    assert create.method == "POST"
    assert create.headers["content-type"] == "application/scim+json; charset=utf-8"
    sent = body(create)
    assert sent["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]
    assert sent["externalId"] == "mara.quinn"  # mailNickname
    assert sent["active"] is True  # a JSON boolean in POSTs
    assert sent["emails"] == [
        {"primary": True, "type": "work", "value": "mara.quinn@sunrise.example"}
    ]
    assert sent["phoneNumbers"] == [
        {"type": "work", "value": "+1 206 555 0100"},
        {"type": "mobile", "value": "+1 206 555 0147"},
    ]
    assert sent[ENTERPRISE] == {"employeeNumber": "70412"}
    assert sent["meta"] == {"resourceType": "User"}
    assert "manager" not in json.dumps(sent)


async def test_default_dialect_disables_with_capitalised_replace_and_a_string(
    router: respx.MockRouter,
) -> None:
    h = harness(router, ENTRA)
    h.directory.add_person(mara())
    await h.sync.run_cycle()
    h.directory.disable("mara")
    await h.sync.run_cycle()
    h.directory.enable("mara")
    await h.sync.run_cycle()
    off, on = h.server.sent("PATCH")
    assert body(off) == {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
    }
    assert body(on)["Operations"] == [{"op": "Replace", "path": "active", "value": "True"}]


async def test_lowercase_boolean_variant_sends_false_in_lower_case(
    router: respx.MockRouter,
) -> None:
    h = harness(router, make_dialect("entra", ["lowercase-booleans"]))
    h.directory.add_person(mara())
    await h.sync.run_cycle()
    h.directory.disable("mara")
    await h.sync.run_cycle()
    (off,) = h.server.sent("PATCH")
    assert body(off)["Operations"] == [{"op": "Replace", "path": "active", "value": "false"}]


async def test_flag_sends_real_booleans_and_lowercase_ops(router: respx.MockRouter) -> None:
    h = harness(router, ENTRA_FLAGGED)
    h.directory.add_person(mara())
    await h.sync.run_cycle()
    h.directory.disable("mara")
    await h.sync.run_cycle()
    (off,) = h.server.sent("PATCH")
    assert body(off)["Operations"] == [{"op": "replace", "path": "active", "value": False}]


async def test_on_demand_ignores_the_flag(router: respx.MockRouter) -> None:
    h = harness(router, ENTRA_FLAGGED)
    h.directory.add_person(mara())
    await h.sync.run_cycle()
    h.directory.disable("mara")
    await h.sync.run_cycle(on_demand=True)
    (off,) = h.server.sent("PATCH")
    assert body(off)["Operations"] == [{"op": "Replace", "path": "active", "value": "False"}]


async def test_default_update_reads_first_then_adds_empty_attributes_on_filter_paths(
    router: respx.MockRouter,
) -> None:
    h = harness(router, ENTRA)
    h.directory.add_person(
        Person("ravi", "ravi@sunrise.example", given_name="Ravi", family_name="Doe")
    )
    await h.sync.run_cycle()
    h.directory.update_person("ravi", email="ravi@sunrise.example", family_name="Doe-Ng")
    await h.sync.run_cycle()
    get, patch = h.server.requests[-2:]
    assert get.method == "GET"
    assert "/Users/" in get.url.path
    assert body(patch)["Operations"] == [
        {"op": "Replace", "path": "displayName", "value": "Ravi Doe-Ng"},
        {"op": "Replace", "path": "name.familyName", "value": "Doe-Ng"},
        {"op": "Replace", "path": "name.formatted", "value": "Ravi Doe-Ng"},
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": "ravi@sunrise.example"},
    ]


async def test_flag_folds_single_valued_replaces_into_one_pathless_op_with_dotted_keys(
    router: respx.MockRouter,
) -> None:
    h = harness(router, ENTRA_FLAGGED)
    h.directory.add_person(mara())
    await h.sync.run_cycle()
    h.directory.update_person(
        "mara", family_name="Quinn-Ortiz", employee_number="70999", email="mq@sunrise.example"
    )
    await h.sync.run_cycle()
    operations = body(h.server.sent("PATCH")[-1])["Operations"]
    assert operations == [
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "mq@sunrise.example"},
        {
            "op": "replace",
            "value": {
                "displayName": "Mara Quinn-Ortiz",
                "name.familyName": "Quinn-Ortiz",
                "name.formatted": "Mara Quinn-Ortiz",
                f"{ENTERPRISE}:employeeNumber": "70999",
            },
        },
    ]


async def test_manager_is_added_in_a_second_pass_as_a_bare_string(router: respx.MockRouter) -> None:
    h = harness(router, ENTRA)
    h.directory.add_person(mara(key="dana", user_name="dana@sunrise.example", manager="erin"))
    h.directory.add_person(mara(key="erin", user_name="erin@sunrise.example"))
    await h.sync.run_cycle()
    methods = [r.method for r in h.server.requests]
    assert methods == ["GET", "POST", "GET", "POST", "PATCH"]
    erin = h.sync.objects.server_id("erin")
    assert body(h.server.requests[-1])["Operations"] == [
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": erin}
    ]


async def test_roles_are_added_as_json_inside_a_string(router: respx.MockRouter) -> None:
    h = harness(router, ENTRA)
    h.directory.add_person(mara(roles=["Clinician"]))
    await h.sync.run_cycle()
    assert body(h.server.sent("POST")[0])["roles"] == [
        {"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "Clinician"}
    ]
    h.directory.update_person("mara", roles=["Admin", "Clinician"])
    await h.sync.run_cycle()
    (operation,) = body(h.server.sent("PATCH")[-1])["Operations"]
    assert operation["path"] == "roles"
    assert [json.loads(v["value"])["value"] for v in operation["value"]] == ["Admin", "Clinician"]


async def _group_cycle(router: respx.MockRouter, dialect: Any) -> tuple[Any, list[httpx.Request]]:
    h = harness(router, dialect)
    h.directory.add_person(mara())
    h.directory.add_person(mara(key="jon", user_name="jon@sunrise.example"))
    h.directory.add_group("platform", "Platform Team", ["mara", "jon"])
    await h.sync.run_cycle()
    h.directory.change_members("platform", remove=["mara"])
    await h.sync.run_cycle()
    return h, [r for r in h.server.requests if "/Groups" in r.url.path]


async def test_groups_default_dialect(router: respx.MockRouter) -> None:
    h, (lookup, create, add, remove) = await _group_cycle(router, ENTRA)
    assert list(lookup.url.params.multi_items()) == [
        ("excludedAttributes", "members"),
        ("filter", 'displayName eq "Platform Team"'),
    ]
    created = body(create)
    assert "members" not in created
    assert created["externalId"] == h.directory.group("platform").object_id
    ids = sorted([h.sync.objects.server_id("mara"), h.sync.objects.server_id("jon")])
    assert body(add)["Operations"] == [
        {"op": "Add", "path": "members", "value": [{"value": i} for i in ids]}
    ]
    mara_id = h.sync.objects.server_id("mara")
    assert body(remove)["Operations"] == [
        {"op": "Remove", "path": "members", "value": [{"value": mara_id}]}
    ]


async def test_groups_flagged_dialect_removes_with_a_filter_path_and_no_value(
    router: respx.MockRouter,
) -> None:
    h, requests = await _group_cycle(router, ENTRA_FLAGGED)
    mara_id = h.sync.objects.server_id("mara")
    assert body(requests[-1])["Operations"] == [
        {"op": "remove", "path": f'members[value eq "{mara_id}"]'}
    ]
