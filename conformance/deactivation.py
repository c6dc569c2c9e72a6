"""Deactivation (DA): every way identity providers deactivate a user works, a deactivated user
stays readable, and DELETE removes the user from SCIM for good.

Platform rule: a deactivated staff account can no longer sign in; reactivation restores it
as it was. Forms covered: PATCH with ``path`` (RFC 7644 §3.5.2.3), path-less PATCH (Okta),
PUT (Okta AIW, RFC 7644 §3.5.1), Entra's ``"Replace"``/``"False"`` strings, lower-case string
booleans (Google), and DELETE (RFC 7644 §3.6). DA-008 and DA-009 need ``--platform-url`` and
``--admin-key``: DA-008 signs in through a simulated identity provider
(``conformance.sso``), DA-009 reads the account through the platform's staff API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance import actions, scim
from conformance.platform import platform
from conformance.registry import check
from conformance.sso import sso

if TYPE_CHECKING:
    from conformance.session import Session

ACTIVE_RULE = "RFC 7643 §4.1.1 active; platform rule: deactivation"
#: The platform's access levels (its staff API), highest first.
ACCESS_LEVELS = ("provider", "clinical_staff", "admin_staff")
_OFF = scim.patch({"op": "replace", "path": "active", "value": False})


async def _deactivate_with(s: Session, method: str, body: Any, what: str) -> dict[str, Any]:
    """Create an active user, send ``body`` to deactivate it, and insist it reads inactive
    (a JSON boolean) by id and by filter, with its other attributes untouched."""
    created = await actions.create_user(s, "da")
    user_id = str(created["id"])
    payload = body(created) if callable(body) else body
    response = await s.scim(method, f"/Users/{user_id}", json=payload)
    s.expect_status(response, 200, 204, doing=what)
    stored = await actions.read_user(s, user_id)
    active = scim.attr(stored, "active")
    s.expect(active is False, f"after {what}, active is {active!r}, not false", None)
    before = scim.accepted_view(created) | {"active": False}
    changed = {k: v for k, v in scim.accepted_view(stored).items() if before[k] != v}
    s.expect(not changed, f"{what} changed other attributes: {changed}", None)
    listing, found = await actions.filter_users(s, f'userName eq "{created["userName"]}"')
    s.expect(len(found) == 1, "the deactivated user is missing from the filter", listing)
    s.expect(scim.attr(found[0], "active") is False, "the filter shows it active", listing)
    return stored


@check("DA-001", "PATCH replace of active with a path deactivates", rule=ACTIVE_RULE)
async def patch_path(s: Session) -> None:
    """RFC 7644 §3.5.2.3: ``{"op":"replace","path":"active","value":false}``."""
    body = scim.patch({"op": "replace", "path": "active", "value": False})
    await _deactivate_with(s, "PATCH", body, "PATCH replace active false")


@check(
    "DA-002",
    'Entra\'s PATCH Replace of active with "False" deactivates',
    rule=ACTIVE_RULE + "; Entra",
)
async def entra_string(s: Session) -> None:
    """Entra's default dialect: capitalised ``"Replace"`` and the string ``"False"`` for a
    boolean (RFC 7643 §2.3.2 type boolean; Entra SCIM compatibility notes)."""
    body = scim.patch({"op": "Replace", "path": "active", "value": "False"})
    await _deactivate_with(s, "PATCH", body, 'PATCH Replace active "False"')


@check("DA-003", "Path-less PATCH replace {active: false} deactivates", rule=ACTIVE_RULE + "; Okta")
async def pathless(s: Session) -> None:
    """RFC 7644 §3.5.2.3 without ``path``: the value is an object of attributes to replace
    (Okta's deactivation)."""
    body = scim.patch({"op": "replace", "value": {"active": False}})
    await _deactivate_with(s, "PATCH", body, "path-less PATCH active false")


@check("DA-004", "PUT with active false deactivates", rule=ACTIVE_RULE + "; RFC 7644 §3.5.1")
async def put(s: Session) -> None:
    """RFC 7644 §3.5.1: a full replace with ``"active": false`` (Okta AIW apps), carrying the
    read-only ``id`` and ``meta`` as Okta does."""

    def body(created: dict[str, Any]) -> dict[str, Any]:
        return {**created, "active": False}

    await _deactivate_with(s, "PUT", body, "PUT active false")


@check(
    "DA-005",
    "Lower-case string booleans deactivate and reactivate",
    rule=ACTIVE_RULE + "; Google, Entra",
)
async def lower_case_strings(s: Session) -> None:
    """String booleans in any case (``"false"``, ``"true"``) coerced to the boolean type of
    ``active`` (RFC 7643 §2.3.2), path-less and with a path."""
    body = scim.patch({"op": "replace", "value": {"active": "false"}})
    stored = await _deactivate_with(s, "PATCH", body, 'path-less PATCH active "false"')
    again = scim.patch({"op": "replace", "path": "active", "value": "true"})
    response = await s.scim("PATCH", f"/Users/{stored['id']}", json=again)
    s.expect_status(response, 200, 204, doing='PATCH active "true"')
    active = scim.attr(await actions.read_user(s, str(stored["id"])), "active")
    s.expect(active is True, f'after active "true" the user reads active={active!r}', None)


@check("DA-006", "Reactivation restores the user unchanged", rule=ACTIVE_RULE + "; Entra, Okta")
async def reactivation(s: Session) -> None:
    """Deactivate with JSON ``false``, then reactivate as Entra (``"True"``) and as Okta
    (path-less ``true``): the user is active again with every accepted attribute intact."""
    off = scim.patch({"op": "replace", "path": "active", "value": False})
    stored = await _deactivate_with(s, "PATCH", off, "PATCH active false")
    user_id = str(stored["id"])
    for body in (
        scim.patch({"op": "Replace", "path": "active", "value": "True"}),
        scim.patch({"op": "replace", "value": {"active": True}}),
    ):
        response = await s.scim("PATCH", f"/Users/{user_id}", json=body)
        s.expect_status(response, 200, 204, doing="reactivating")
        again = await actions.read_user(s, user_id)
        changed = scim.accepted_view(again) != scim.accepted_view(stored) | {"active": True}
        s.expect(not changed, "reactivation did not restore the user as it was", None)
        await s.scim("PATCH", f"/Users/{user_id}", json=off)


@check("DA-007", "DELETE removes the user from SCIM, idempotently", rule="RFC 7644 §3.6")
async def delete(s: Session) -> None:
    """RFC 7644 §3.6: DELETE answers 204; afterwards GET by id is 404, filters no longer find
    the user, and a second DELETE is 404 (Entra's hard delete expects this)."""
    created = await actions.create_user(s, "del")
    path = f"/Users/{created['id']}"
    first = await s.scim("DELETE", path)
    s.expect(first.status_code == 204, f"DELETE answered {first.status_code}, not 204", first)
    s.expect(not first.content, "the 204 to DELETE has a body", first)
    gone = await s.scim("GET", path)
    s.expect(gone.status_code == 404, "GET after DELETE is not 404", gone)
    listing, found = await actions.filter_users(s, f'userName eq "{created["userName"]}"')
    s.expect(not found, "a filter still finds the deleted user", listing)
    again = await s.scim("DELETE", path)
    s.expect(again.status_code == 404, "a second DELETE is not 404", again)


@check("DA-008", "A deactivated user cannot sign in, at once", rule="platform rule: deactivation")
async def sign_in_refused(s: Session) -> None:
    """Platform rule: when the identity provider deactivates a user, the account can no
    longer sign in and its open sessions end immediately. A user signed in through SSO
    (``conformance.sso``) holds a session; right after ``active=false`` arrives over SCIM,
    that session no longer opens the console and a fresh SSO sign-in is refused."""
    harness = await sso(s)
    person = harness.person("da")
    user = await harness.provision(person)
    held, _ = await harness.expect_signed_in(person)
    response = await s.scim("PATCH", f"/Users/{user['id']}", json=_OFF)
    s.expect_status(response, 200, 204, doing="deactivating the signed-in user")
    page = await harness.console(held)
    s.expect(page.status_code != 200, "the deactivated user's open session still works", page)
    await harness.expect_refused(person, "a deactivated user")


@check(
    "DA-009", "Reactivation restores access level and locations", rule="platform rule: deactivation"
)
async def access_restored(s: Session) -> None:
    """Platform rule: a reactivated account gets back the access level and locations a
    practice administrator had given it; deactivation never resets them. Through the staff
    API: a level other than the account's first one and a location (``platform.LOCATION``,
    kept: locations cannot be deleted), then SCIM ``active=false`` (the account reads
    inactive) and ``active=true``."""
    admin = platform(s)
    user = await actions.create_user(s, "da")
    user_id, user_name = str(user["id"]), str(user["userName"])
    record = await admin.staff(user_id, user_name)
    level = next(v for v in ACCESS_LEVELS if v != record.get("access_level"))
    location = await admin.conformance_location()
    given = {"access_level": level, "location_ids": [location]}
    edited = await admin.api("PATCH", f"/staff/{record.get('id', user_id)}", given)
    s.expect_status(edited, 200, doing="giving the account an access level and a location")
    for active, state in ((False, "inactive"), (True, "active")):
        body = scim.patch({"op": "replace", "path": "active", "value": active})
        response = await s.scim("PATCH", f"/Users/{user_id}", json=body)
        s.expect_status(response, 200, 204, doing=f"making the user {state}")
        record = await admin.staff(user_id, user_name)
        s.expect(record.get("active") is active, f"the staff account does not read {state}", None)
    kept = {"access_level": record.get("access_level"), "location_ids": record.get("location_ids")}
    s.expect(kept == given, f"after reactivation the account has {kept}, not {given}", None)
