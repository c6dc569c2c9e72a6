"""IdP readiness (IR): what Okta's published SCIM 2.0 spec test and Microsoft's SCIM
validation collection exercise before an application may connect, as our own checks.

Sources (our reading, idp-behaviors §1-2, §4): Okta's spec test (paged ``GET /Users`` with
integer counters and a usable first resource, 404 body, 409 on repeat create, upper-case
``userName`` lookup, ``GET /Groups``) and Microsoft's validator and Entra behaviour
(empty-filter test connection, round-tripping values, capitalised ops, PascalCase names,
create-on-absent filter paths, alternative matching attributes, group membership).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from conformance import actions, scim
from conformance.registry import check

if TYPE_CHECKING:
    from conformance.session import Session

OKTA = "Okta SCIM 2.0 spec test"
ENTRA = "Microsoft SCIM validator / Entra provisioning"
OKTA_PASSWORD = "Okta-Random-1!"  # noqa: S105 - Okta sends a random one; it must be ignored
OKTA_HEADERS = {
    "User-Agent": "Okta SCIM Client 1.0.0",
    "Content-Type": "application/scim+json; charset=utf-8",
}


def _integers(s: Session, response: Any, listing: Any) -> None:
    for key in ("totalResults", "startIndex", "itemsPerPage"):
        value = scim.attr(listing, key)
        s.expect(
            isinstance(value, int) and not isinstance(value, bool),
            f"{key} is not an integer",
            response,
        )


@check("IR-001", "Paged GET /Users gives integer counters and a usable first user", rule=OKTA)
async def okta_first_page(s: Session) -> None:
    """Okta's "Test API credentials": ``GET /Users?startIndex=1&count=1`` is 200 with a
    ListResponse whose counters are integers and whose first resource has ``id``,
    ``userName``, ``name.givenName``, ``name.familyName``, ``active`` and ``emails[0].value``."""
    await actions.create_user(s, "okta")
    response = await s.scim("GET", "/Users", params={"startIndex": "1", "count": "1"})
    listing = s.expect_status(response, 200, doing="GET /Users?startIndex=1&count=1")
    _integers(s, response, listing)
    found = scim.resources(listing)
    s.expect(len(found) == 1, f"count=1 returned {len(found)} resources", response)
    first = found[0]
    emails = scim.attr(first, "emails") or [{}]
    needed = {
        n: scim.attr(first, n)
        for n in ("id", "userName", "name.givenName", "name.familyName", "active")
    }
    needed["emails[0].value"] = scim.attr(emails[0], "value")
    missing = [n for n, v in needed.items() if v is None]
    s.expect(not missing, f"the first user lacks {missing}", response)


@check("IR-002", 'An unknown user id is 404 with detail and status "404"', rule=OKTA)
async def okta_not_found(s: Session) -> None:
    """Okta's spec test reads a random id and expects 404 with the Error schema, a ``detail``
    and ``status`` as the string "404" (RFC 7644 §3.12)."""
    response = await s.scim("GET", f"/Users/{uuid.uuid4()}")
    body = s.expect_status(response, 404, doing="GET of an unknown id")
    s.expect(scim.ERROR in (scim.attr(body, "schemas") or []), "no Error schema", response)
    s.expect(scim.attr(body, "detail"), "the 404 body has no detail", response)
    s.expect(scim.attr(body, "status") == "404", 'status is not the string "404"', response)


@check("IR-003", "A filter that matches nothing is 200 with an empty list", rule=f"{ENTRA}; {OKTA}")
async def empty_filter(s: Session) -> None:
    """Entra's test connection filters on a random GUID; Okta's spec test on a random email.
    Both expect 200 with ``totalResults`` 0, never 404 or 400 (Entra quarantines on those)."""
    for expression in (
        f'userName eq "{uuid.uuid4()}"',
        f'emails.value eq "{uuid.uuid4().hex}@example.org"',
    ):
        response = await s.scim("GET", "/Users", params={"filter": expression})
        listing = s.expect_status(response, 200, doing=f"filter {expression}")
        s.expect(scim.attr(listing, "totalResults") == 0, "totalResults is not 0", response)
        s.expect(not scim.resources(listing), "resources returned for a miss", response)


@check("IR-004", "Okta's create answers 201 with the user; a repeat is 409", rule=OKTA)
async def okta_create(s: Session) -> None:
    """Okta creates with ``password``, ``groups: []`` and an ``00u…`` ``externalId``: the
    answer is 201 with the full user (an empty body fails the task), the password is never
    echoed; repeating the create is 409 with the Error schema and ``scimType`` uniqueness."""
    body = scim.user_body(
        s.unique("okta"), password=OKTA_PASSWORD, groups=[], externalId="00u1a2b3c4d5e6f7g8h9"
    )
    response = await s.scim("POST", "/Users", json=body, headers=OKTA_HEADERS)
    created = s.expect_status(response, 201, doing="Okta's create")
    actions.delete_later(s, f"/Users/{scim.attr(created, 'id')}")
    for name in ("id", "userName", "active", "name.givenName", "emails"):
        s.expect(scim.attr(created, name) is not None, f"the 201 body lacks {name}", response)
    s.expect(scim.attr(created, "password") is None, "the password is echoed", response)
    again = await s.scim("POST", "/Users", json=body, headers=OKTA_HEADERS)
    if again.status_code == 201:
        actions.delete_later(s, f"/Users/{scim.attr(s.json(again), 'id')}")
    error = s.expect_status(again, 409, doing="repeating the create")
    s.expect(
        scim.ERROR in (scim.attr(error, "schemas") or []), "409 without the Error schema", again
    )
    s.expect(scim.attr(error, "scimType") == "uniqueness", "409 without scimType uniqueness", again)


@check("IR-005", "userName lookup in upper case finds exactly the user", rule=f"{OKTA}; {ENTRA}")
async def upper_case_lookup(s: Session) -> None:
    """Okta's spec test creates a user in mixed case and filters ``userName eq`` in upper case
    (with ``startIndex=1&count=100``): 200 with exactly that one user."""
    created = await actions.create_user(s, "MixedCase")
    expression = f'userName eq "{str(created["userName"]).upper()}"'
    response, found = await actions.filter_users(s, expression, startIndex="1", count="100")
    s.expect(
        [r.get("id") for r in found] == [created["id"]],
        f"found {len(found)} users, not the one",
        response,
    )
    s.expect(scim.attr(s.json(response), "totalResults") == 1, "totalResults is not 1", response)


@check("IR-006", "Entra's create round-trips every accepted value", rule=ENTRA)
async def entra_round_trip(s: Session) -> None:
    """Entra's create (core and enterprise schemas, ``externalId``, work email, mobile phone)
    is 201 and a later GET returns each accepted value exactly as sent, emails with ``type``
    work and ``primary`` true; otherwise Entra re-sends updates forever."""
    user_name = f"{s.unique('entra')}@contoso.example"
    body = scim.user_body(
        user_name, schemas=[scim.USER, scim.ENTERPRISE_USER], displayName="Dana Lee"
    )
    body["emails"] = [{"primary": True, "type": "work", "value": user_name}]
    body[scim.ENTERPRISE_USER] = {"employeeNumber": "701984", "department": "Cardiology"}
    created = await actions.create_user(s, "entra", body=body)
    stored = await actions.read_user(s, str(created["id"]))
    view, want = scim.accepted_view(stored), scim.accepted_view(body)
    s.expect(view == want, f"values did not round-trip: {view} != {want}", None)
    email = (scim.attr(stored, "emails") or [{}])[0]
    s.expect(
        scim.attr(email, "type") == "work" and scim.attr(email, "primary") is True,
        "email type/primary changed",
        None,
    )


@check("IR-007", "Capitalised PATCH ops Add, Replace and Remove work", rule=ENTRA)
async def capitalised_ops(s: Session) -> None:
    """Entra's default dialect sends ``"Add"``, ``"Replace"`` and ``"Remove"``; they behave as
    the lower-case RFC 7644 §3.5.2 operations."""
    created = await actions.create_user(s, "ops")
    body = scim.patch(
        {"op": "Replace", "path": "name.givenName", "value": "Dee"},
        {"op": "Add", "path": "externalId", "value": "ext-entra"},
        {"op": "Remove", "path": 'phoneNumbers[type eq "mobile"]'},
    )
    response = await s.scim("PATCH", f"/Users/{created['id']}", json=body)
    s.expect_status(response, 200, 204, doing="PATCH with capitalised ops")
    view = scim.accepted_view(await actions.read_user(s, str(created["id"])))
    want = scim.accepted_view(created) | {
        "name.givenName": "Dee",
        "externalId": "ext-entra",
        "mobile": None,
    }
    s.expect(view == want, f"capitalised ops gave {view}, expected {want}", None)


@check("IR-008", "PascalCase attribute names are understood", rule=f"{ENTRA}; RFC 7643 §2.1")
async def pascal_case(s: Session) -> None:
    """Microsoft's validation collection sends attribute names in PascalCase (``UserName``,
    ``Name.GivenName``); RFC 7643 §2.1 makes names case-insensitive, in bodies and filters."""
    user_name = s.unique("pascal")
    body = {
        "schemas": [scim.USER],
        "UserName": user_name,
        "Name": {"GivenName": "Dana", "FamilyName": "Lee"},
        "Emails": [{"Value": f"{user_name}@example.org", "Type": "work", "Primary": True}],
        "Active": True,
        "ExternalId": f"ext-{user_name}",
    }
    created = await actions.create_user(s, "pascal", body=body)
    view = scim.accepted_view(created)
    want = scim.accepted_view(scim.user_body(user_name)) | {"mobile": None}
    s.expect(view == want, f"PascalCase create gave {view}", None)
    response, found = await actions.filter_users(s, f'UserName eq "{user_name}"')
    s.expect(len(found) == 1, "a PascalCase filter did not find the user", response)


@check(
    "IR-009", "Adding to an absent filtered element creates it", rule=f"{ENTRA}; RFC 7644 §3.5.2.1"
)
async def create_on_absent(s: Session) -> None:
    """Entra adds ``emails[type eq "work"].value`` and ``phoneNumbers[type eq "mobile"].value``
    to users that have neither; the elements are created with those types, not ignored."""
    user_name = s.unique("absent")
    body = scim.user_body(user_name)
    del body["emails"], body["phoneNumbers"]
    created = await actions.create_user(s, "absent", body=body)
    patch = scim.patch(
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": f"{user_name}@example.org"},
        {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 555 0177"},
    )
    response = await s.scim("PATCH", f"/Users/{created['id']}", json=patch)
    s.expect_status(response, 200, 204, doing="PATCH Add to absent filtered elements")
    view = scim.accepted_view(await actions.read_user(s, str(created["id"])))
    s.expect(
        view["email"] == f"{user_name}@example.org", f"the work email reads {view['email']!r}", None
    )
    s.expect(view["mobile"] == "+1 555 0177", f"the mobile phone reads {view['mobile']!r}", None)


@check("IR-010", "Lookups by externalId and work email find the user", rule=ENTRA)
async def alternative_matching(s: Session) -> None:
    """Entra's matching attribute can be changed from ``userName``: ``externalId eq`` and
    ``emails[type eq "work"].value eq`` must each find exactly the user."""
    created = await actions.create_user(s, "match")
    email = scim.accepted_view(created)["email"]
    for expression in (
        f'externalId eq "{created["externalId"]}"',
        f'emails[type eq "work"].value eq "{email}"',
    ):
        response, found = await actions.filter_users(s, expression)
        s.expect(
            [r.get("id") for r in found] == [created["id"]],
            f"{expression!r} did not find exactly the user",
            response,
        )


@check("IR-011", "Okta's GET-then-PUT changes one value and wipes nothing", rule=OKTA)
async def okta_put(s: Session) -> None:
    """Okta updates by PUT of the full object it read, with ``id``, ``meta``, ``groups`` and
    a ``password``: 200 with the updated user; read-only fields are ignored."""
    created = await actions.create_user(s, "put")
    current = await actions.read_user(s, str(created["id"]))
    body = {**current, "groups": [], "password": OKTA_PASSWORD}
    body["name"] = {**(scim.attr(current, "name") or {}), "familyName": "Lee-Ray"}
    response = await s.scim("PUT", f"/Users/{created['id']}", json=body, headers=OKTA_HEADERS)
    replaced = s.expect_status(response, 200, doing="Okta's PUT")
    want = scim.accepted_view(created) | {"name.familyName": "Lee-Ray"}
    s.expect(scim.accepted_view(replaced) == want, "PUT did not keep the other values", response)


@check("IR-012", "Group lookups answer 200 with a ListResponse", rule=f"{ENTRA}; {OKTA}")
async def group_lookups(s: Session) -> None:
    """Entra looks groups up with ``excludedAttributes=members&filter=displayName eq``; Okta's
    spec test lists ``GET /Groups``. Both expect 200 and a ListResponse (a miss is empty)."""
    params = {"excludedAttributes": "members", "filter": f'displayName eq "{uuid.uuid4()}"'}
    response = await s.scim("GET", "/Groups", params=params)
    listing = s.expect_status(response, 200, doing="Entra's group lookup")
    s.expect(scim.attr(listing, "totalResults") == 0, "a group lookup miss is not empty", response)
    paged = await s.scim("GET", "/Groups", params={"startIndex": "1", "count": "1"})
    _integers(s, paged, s.expect_status(paged, 200, doing="GET /Groups"))


async def _members(s: Session, group_id: str) -> set[str]:
    group = s.expect_status(
        await s.scim("GET", f"/Groups/{group_id}"), 200, doing="reading the group"
    )
    return {str(scim.attr(m, "value")) for m in scim.attr(group, "members") or []}


@check(
    "IR-013",
    "Group members are added and removed in every IdP form",
    rule=f"{ENTRA}; {OKTA}; RFC 7644 §3.5.2",
)
async def group_membership(s: Session) -> None:
    """Entra adds members with a value list and removes them with ``path: members`` and a
    value list (which must not empty the group); Okta removes with ``members[value eq ...]``
    and renames path-less with ``id`` in the value. Not applicable when ``/ResourceTypes``
    announces no Group."""
    types = await actions.resource_types(s)
    if types is not None and not any(scim.attr(t, "name") == "Group" for t in types):
        s.not_applicable("the target's ResourceTypes announce no Group")
    one = str((await actions.create_user(s, "member"))["id"])
    two = str((await actions.create_user(s, "member"))["id"])
    name = s.unique("group")
    response = await s.scim("POST", "/Groups", json={"schemas": [scim.GROUP], "displayName": name})
    group = s.expect_status(response, 201, doing="creating a group")
    group_id = str(scim.attr(group, "id"))
    actions.delete_later(s, f"/Groups/{group_id}")
    steps: list[tuple[dict[str, Any], set[str]]] = [
        ({"op": "Add", "path": "members", "value": [{"value": one}, {"value": two}]}, {one, two}),
        ({"op": "Remove", "path": "members", "value": [{"value": one}]}, {two}),
        ({"op": "remove", "path": f'members[value eq "{two}"]'}, set()),
        ({"op": "replace", "value": {"id": group_id, "displayName": name + "-renamed"}}, set()),
    ]
    for operation, expected in steps:
        patched = await s.scim("PATCH", f"/Groups/{group_id}", json=scim.patch(operation))
        s.expect_status(patched, 200, 204, doing=f"PATCH {operation['op']} members")
        got = await _members(s, group_id)
        s.expect(got == expected, f"after {operation['op']} members are {sorted(got)}", None)
    slim = await s.scim("GET", f"/Groups/{group_id}", params={"excludedAttributes": "members"})
    body = s.expect_status(slim, 200, doing="GET the group without members")
    s.expect(scim.attr(body, "displayName") == name + "-renamed", "the rename did not apply", slim)
    s.expect(scim.attr(body, "members") is None, "excludedAttributes=members ignored", slim)
    deleted = await s.scim("DELETE", f"/Groups/{group_id}")
    s.expect(deleted.status_code == 204, f"DELETE of the group got {deleted.status_code}", deleted)
