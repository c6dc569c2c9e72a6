"""Tenancy (TI): one tenant's credentials never read, find, change or delete another tenant's
users, not even by guessing ids (RFC 7644 §6 multi-tenancy; platform rule: the practice is
explicit in every request and the credential's practice must match the URL's).

The cross-tenant checks need a second tenant (``--peer-scim-url`` and ``--peer-token``): the
check creates a user there with the peer's credential and attacks it with the target's.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from conformance import actions, scim
from conformance.registry import check

if TYPE_CHECKING:
    from conformance.session import Session

TENANCY_RULE = "RFC 7644 §6; platform rule: practice isolation"


async def _peer_user(s: Session, label: str, user_name: str | None = None) -> dict[str, Any]:
    """A user of the peer tenant, created (and later deleted) with the peer's token."""
    peer = s.target.peer
    if peer is None:
        s.not_applicable("needs a second tenant (--peer-scim-url/--peer-token)")
    auth = f"Bearer {peer.token}"
    body = scim.user_body(user_name or s.unique(label))
    response = await s.scim("POST", "/Users", json=body, base=peer.scim_url, auth=auth)
    created = s.expect_status(response, 201, doing="creating a user in the peer tenant")
    actions.delete_later(s, f"/Users/{created['id']}", base=peer.scim_url, auth=auth)
    return dict(created)


async def _peer_view(s: Session, user_id: str) -> dict[str, Any]:
    peer = s.target.peer
    assert peer is not None
    response = await s.scim(
        "GET", f"/Users/{user_id}", base=peer.scim_url, auth=f"Bearer {peer.token}"
    )
    return dict(
        s.expect_status(response, 200, doing="reading the peer's user with the peer's token")
    )


@check("TI-001", "Credentials are refused on another tenant's URL", rule=TENANCY_RULE)
async def other_tenant_url(s: Session) -> None:
    """Platform rule (the credential's practice must match the URL's; RFC 7644 §6): a request
    to another practice's SCIM URL (the peer's, else a made-up practice id) is refused with
    401, 403 or 404 and shows no users."""
    if s.target.peer is not None:
        base = s.target.peer.scim_url
    elif s.target.tenant_id is not None:
        base = s.target.with_tenant(str(uuid.uuid4()))
    else:
        s.not_applicable("the SCIM URL names no tenant and no --peer-scim-url was given")
    for path in ("/Users", "/ServiceProviderConfig"):
        response = await s.scim("GET", path, base=base)
        s.expect(
            response.status_code in (401, 403, 404),
            f"GET {path} on another tenant got {response.status_code}",
            response,
        )
        s.expect(
            not scim.resources(s.maybe_json(response)),
            "users were listed",
            response,
        )
    created = await s.scim("POST", "/Users", json=scim.user_body(s.unique("cross")), base=base)
    s.expect(
        created.status_code in (401, 403, 404),
        f"POST on another tenant got {created.status_code}",
        created,
    )


@check("TI-002", "Another tenant's user cannot be read by id", rule=TENANCY_RULE)
async def read_by_id(s: Session) -> None:
    """RFC 7644 §6 and the platform's practice isolation: GET ``/Users/{id}`` with this
    tenant's credential and the peer's user id is 404 here and refused on the peer's URL."""
    victim = await _peer_user(s, "victim")
    here = await s.scim("GET", f"/Users/{victim['id']}")
    s.expect(here.status_code == 404, f"the peer's user read here got {here.status_code}", here)
    there = await s.scim("GET", f"/Users/{victim['id']}", base=s.target.peer.scim_url)  # type: ignore[union-attr]
    s.expect(
        there.status_code in (401, 403, 404),
        f"read on the peer's URL got {there.status_code}",
        there,
    )


@check(
    "TI-003",
    "Another tenant's user is never found by filter",
    rule=TENANCY_RULE + "; RFC 7644 §3.4.2",
)
async def find_by_filter(s: Session) -> None:
    """Lists and filters (RFC 7644 §3.4.2) only ever search the caller's tenant: filtering for
    the peer's user by ``userName`` (and in upper case) finds nothing here."""
    victim = await _peer_user(s, "hidden")
    for value in (victim["userName"], str(victim["userName"]).upper()):
        response, found = await actions.filter_users(s, f'userName eq "{value}"')
        s.expect(not found, "a filter returned another tenant's user", response)
        total = scim.attr(s.json(response), "totalResults")
        s.expect(total == 0, f"totalResults is {total!r} for another tenant's user", response)


@check("TI-004", "Another tenant's user cannot be changed", rule=TENANCY_RULE)
async def change(s: Session) -> None:
    """RFC 7644 §6 and the platform's practice isolation: PUT and PATCH of the peer's user id
    with this tenant's credential are 404, and the peer's user is unchanged afterwards."""
    victim = await _peer_user(s, "target")
    path = f"/Users/{victim['id']}"
    put = await s.scim(
        "PUT", path, json={**scim.user_body(str(victim["userName"])), "active": False}
    )
    s.expect(put.status_code == 404, f"PUT of another tenant's user got {put.status_code}", put)
    body = scim.patch({"op": "replace", "value": {"active": False, "name.givenName": "Mallory"}})
    patched = await s.scim("PATCH", path, json=body)
    s.expect(
        patched.status_code == 404,
        f"PATCH of another tenant's user got {patched.status_code}",
        patched,
    )
    after = await _peer_view(s, str(victim["id"]))
    s.expect(
        scim.accepted_view(after) == scim.accepted_view(victim), "the peer's user changed", None
    )


@check("TI-005", "Another tenant's user cannot be deleted", rule=TENANCY_RULE)
async def delete(s: Session) -> None:
    """RFC 7644 §6 and the platform's practice isolation: DELETE of the peer's user id with
    this tenant's credential is 404, and the user is still there for its own tenant."""
    victim = await _peer_user(s, "keep")
    response = await s.scim("DELETE", f"/Users/{victim['id']}")
    s.expect(
        response.status_code == 404,
        f"DELETE of another tenant's user got {response.status_code}",
        response,
    )
    after = await _peer_view(s, str(victim["id"]))
    s.expect(scim.attr(after, "active") is True, "the peer's user was deactivated", None)


@check(
    "TI-006",
    "userName is unique per tenant, not across tenants",
    rule=TENANCY_RULE + "; RFC 7643 §2.1 uniqueness",
)
async def per_tenant_uniqueness(s: Session) -> None:
    """Uniqueness is scoped to the tenant (RFC 7643 §2.1 ``server`` uniqueness within a
    tenant, RFC 7644 §6): two practices may each have ``dana@example.org``; neither creation
    reveals the other."""
    user_name = s.unique("shared")
    await _peer_user(s, "shared", user_name)
    await actions.create_user(s, "shared", body=scim.user_body(user_name))


@check(
    "TI-007",
    "Every listed user is readable by id with the same credential",
    rule=TENANCY_RULE + "; RFC 7644 §3.4.2",
)
async def listed_are_readable(s: Session) -> None:
    """RFC 7644 §3.4.2 and §6, without a second tenant: whatever a list shows belongs to the
    caller's tenant, so each listed id reads back with 200 at ``/Users/{id}`` (up to 20)."""
    await actions.create_user(s, "listed")
    response = await s.scim("GET", "/Users", params={"startIndex": "1", "count": "20"})
    listing = s.expect_status(response, 200, doing="listing users")
    for resource in scim.resources(listing):
        got = await s.scim("GET", f"/Users/{resource.get('id')}")
        s.expect(
            got.status_code == 200, f"listed user {resource.get('id')} reads {got.status_code}", got
        )
