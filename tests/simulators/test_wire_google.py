"""What the Google generic-connector profile sends (idp-behaviors §3: mostly assumptions)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from simulators.core.directory import Person
from simulators.core.registry import make_dialect
from simulators.google import GOOGLE
from tests.simulators.harness import harness

if TYPE_CHECKING:
    import httpx
    import respx

DAY = 86400.0


def kim(**extra: Any) -> Person:
    values = {
        "key": "kim",
        "user_name": "kim@lakeside.example",
        "given_name": "Kim",
        "family_name": "Tran",
        "email": "kim@lakeside.example",
        "mobile": "+1 555 0100",
    }
    return Person(**(values | extra))


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


async def test_probe_lookup_and_a_minimal_create(router: respx.MockRouter) -> None:
    h = harness(router, GOOGLE)
    await h.sync.test_connection()
    h.directory.add_person(kim())
    h.directory.add_person(kim(key="old", user_name="old@lakeside.example", archived=True))
    h.directory.add_group("staff", "Staff", ["kim"])
    await h.sync.run_cycle()
    probe, lookup, create = h.server.requests
    assert list(probe.url.params.multi_items()) == [("count", "1")]
    assert list(lookup.url.params.multi_items()) == [
        ("filter", 'userName eq "kim@lakeside.example"')
    ]
    assert body(create) == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "kim@lakeside.example",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": "kim@lakeside.example"}],
        "name": {"givenName": "Kim", "familyName": "Tran"},
    }
    # archived users are never sent, groups are not pushed (users only)
    assert all("old@" not in str(r.url) + r.content.decode() for r in h.server.requests)
    assert h.server.sent(path="/Groups") == []


async def test_suspension_waits_for_the_delay_then_patches_active(router: respx.MockRouter) -> None:
    h = harness(router, GOOGLE)
    h.directory.add_person(kim())
    await h.sync.run_cycle()
    h.directory.disable("kim", now=h.clock.now())
    await h.sync.run_schedule(DAY / 2)
    assert h.server.sent("PATCH") == []
    await h.sync.run_schedule(DAY)
    (patch,) = h.server.sent("PATCH")
    assert body(patch)["Operations"] == [{"op": "replace", "path": "active", "value": False}]
    (sent,) = h.recorder.select(label="user.deactivate")
    assert sent.at >= DAY  # not before the one-day delay


async def test_delete_variant_deletes_and_string_variant_sends_strings(
    router: respx.MockRouter,
) -> None:
    h = harness(router, make_dialect("google", ["delete", "string-booleans", "no-delay"]))
    h.directory.add_person(kim())
    await h.sync.run_cycle()
    assert body(h.server.sent("POST")[0])["active"] == "true"
    h.directory.disable("kim", now=h.clock.now())
    await h.sync.run_cycle()
    assert len(h.server.sent("DELETE")) == 1
    assert h.server.sent("PATCH") == []


async def test_string_variant_suspends_with_false_as_a_string(router: respx.MockRouter) -> None:
    h = harness(router, make_dialect("google", ["string-booleans", "no-delay"]))
    h.directory.add_person(kim())
    await h.sync.run_cycle()
    h.directory.disable("kim", now=h.clock.now())
    await h.sync.run_cycle()
    (patch,) = h.server.sent("PATCH")
    assert body(patch)["Operations"] == [{"op": "replace", "path": "active", "value": "false"}]


async def test_put_variant_updates_with_put(router: respx.MockRouter) -> None:
    h = harness(router, make_dialect("google", ["put"]))
    h.directory.add_person(kim())
    await h.sync.run_cycle()
    h.directory.update_person("kim", family_name="Tran-Lee")
    await h.sync.run_cycle()
    (put,) = h.server.sent("PUT")
    assert body(put)["name"] == {"givenName": "Kim", "familyName": "Tran-Lee"}
