"""Attribute filtering (AF): the platform keeps only its accepted attributes, and reads
select and page the way RFC 7644 §3.4.2 says.

Accepted attributes (platform rule): ``userName``, ``name.givenName``, ``name.familyName``,
the mobile ``phoneNumbers`` value, the primary (else work) ``emails`` value, ``active`` and
``externalId``. Everything else an identity provider sends is ignored: not stored, not
returned, never an error, whatever form it arrives in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance import actions, scim
from conformance.registry import check

if TYPE_CHECKING:
    import httpx

    from conformance.session import Session

ACCEPTED_RULE = "platform rule: accepted attributes"
#: Values that only unaccepted attributes carry; none may ever come back.
MARKERS = ("Chief Medical Officer", "Springfield", "Dr Dana Lee", "+1 555 0199", "E-31337")
UNACCEPTED: dict[str, Any] = {
    "title": "Chief Medical Officer",
    "nickName": "Doc",
    "displayName": "Dr Dana Lee",
    "profileUrl": "https://example.org/dana",
    "userType": "Employee",
    "preferredLanguage": "en-US",
    "locale": "en-US",
    "timezone": "America/New_York",
    "addresses": [{"type": "work", "locality": "Springfield", "country": "US"}],
    "roles": [{"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}],
    "password": "Not-Stored-Anywhere-1!",
}


def _kept_only_accepted(s: Session, response: httpx.Response, resource: Any, when: str) -> None:
    extra = scim.unaccepted_attributes(resource)
    s.expect(not extra, f"{when}: the response carries unaccepted attributes {extra}", response)
    leaked = [m for m in MARKERS if m in response.text]
    s.expect(not leaked, f"{when}: values of unaccepted attributes came back: {leaked}", response)


async def _stored_only_accepted(s: Session, user_id: str, expected: dict[str, Any]) -> None:
    """GET by id and by filter: nothing unaccepted stored, accepted values as ``expected``."""
    response = await s.scim("GET", f"/Users/{user_id}")
    stored = s.expect_status(response, 200, doing="reading the user back")
    _kept_only_accepted(s, response, stored, "GET by id")
    view = scim.accepted_view(stored)
    wrong = {k: view[k] for k, v in expected.items() if view.get(k) != v}
    s.expect(not wrong, f"accepted attributes not as sent: {wrong}, expected {expected}", response)
    listing, found = await actions.filter_users(s, f'userName eq "{expected["userName"]}"')
    for resource in found:
        _kept_only_accepted(s, listing, resource, "GET by filter")


def _full(user_name: str) -> dict[str, Any]:
    body = scim.user_body(user_name, **UNACCEPTED)
    body["name"] |= {"middleName": "Quinn", "honorificPrefix": "Dr"}
    body["emails"].append({"value": f"{user_name}@example.net", "type": "home"})
    body["phoneNumbers"].append({"value": "+1 555 0199", "type": "work"})
    body["groups"] = [{"value": "00000000-0000-4000-8000-000000000000", "display": "Ghosts"}]
    return body


async def _patched(s: Session, user_id: str, body: dict[str, Any], when: str) -> None:
    response = await s.scim("PATCH", f"/Users/{user_id}", json=body)
    patched = s.expect_status(response, 200, 204, doing=when)
    if response.status_code == 200:
        _kept_only_accepted(s, response, patched, when)


@check("AF-001", "Unaccepted attributes in POST are ignored", rule=ACCEPTED_RULE)
async def post_ignores(s: Session) -> None:
    """A create carrying every kind of unaccepted attribute (RFC 7643 §4.1 singular and
    multi-valued, a second email, a work phone, ``password``, read-only ``groups``) succeeds
    with 201 (RFC 7644 §3.3), and none of it is returned or stored."""
    body = _full(s.unique("post"))
    response = await s.scim("POST", "/Users", json=body)
    created = s.expect_status(response, 201, doing="creating a user with extra attributes")
    actions.delete_later(s, f"/Users/{scim.attr(created, 'id')}")
    _kept_only_accepted(s, response, created, "POST")
    await _stored_only_accepted(s, str(scim.attr(created, "id")), scim.accepted_view(body))


@check("AF-002", "Unaccepted attributes in PUT are ignored", rule=ACCEPTED_RULE)
async def put_ignores(s: Session) -> None:
    """A replace (RFC 7644 §3.5.1) carrying unaccepted attributes succeeds; accepted values
    change, nothing else is stored or returned."""
    created = await actions.create_user(s, "put")
    body = _full(str(created["userName"]))
    body["name"]["givenName"] = "Dee"
    body["phoneNumbers"][0]["value"] = "+1 555 0142"
    response = await s.scim("PUT", f"/Users/{created['id']}", json=body)
    replaced = s.expect_status(response, 200, doing="replacing with extra attributes")
    _kept_only_accepted(s, response, replaced, "PUT")
    await _stored_only_accepted(s, str(created["id"]), scim.accepted_view(body))


@check("AF-003", "Unaccepted attributes in PATCH with a path are ignored", rule=ACCEPTED_RULE)
async def patch_path_ignores(s: Session) -> None:
    """PATCH operations (RFC 7644 §3.5.2) whose ``path`` names an unaccepted attribute,
    sub-attribute or filtered element succeed and change nothing; an accepted path in the
    same request still applies."""
    created = await actions.create_user(s, "patch")
    body = scim.patch(
        {"op": "add", "path": "title", "value": "Chief Medical Officer"},
        {"op": "replace", "path": "nickName", "value": "Doc"},
        {"op": "add", "path": "name.middleName", "value": "Quinn"},
        {"op": "add", "path": 'addresses[type eq "work"].locality', "value": "Springfield"},
        {"op": "add", "path": 'phoneNumbers[type eq "work"].value', "value": "+1 555 0199"},
        {"op": "replace", "path": "displayName", "value": "Dr Dana Lee"},
        {"op": "replace", "path": "name.givenName", "value": "Dee"},
    )
    await _patched(s, str(created["id"]), body, "PATCH with paths")
    expected = scim.accepted_view(created) | {"name.givenName": "Dee"}
    await _stored_only_accepted(s, str(created["id"]), expected)


@check("AF-004", "Unaccepted attributes in path-less PATCH are ignored", rule=ACCEPTED_RULE)
async def patch_pathless_ignores(s: Session) -> None:
    """Path-less ``add``/``replace`` (RFC 7644 §3.5.2.1, §3.5.2.3) whose value mixes accepted
    and unaccepted attributes, nested and as dotted keys (Entra): accepted ones apply, the
    rest is ignored, and no literal ``name.givenName`` key is stored."""
    created = await actions.create_user(s, "pathless")
    value = {"name.givenName": "Dee", "name.middleName": "Quinn", "title": "Chief Medical Officer"}
    value |= {"displayName": "Dr Dana Lee", "addresses": UNACCEPTED["addresses"]}
    body = scim.patch(
        {"op": "replace", "value": value},
        {"op": "add", "value": {"nickName": "Doc", "name": {"familyName": "Lee-Ray"}}},
    )
    await _patched(s, str(created["id"]), body, "path-less PATCH")
    expected = scim.accepted_view(created) | {"name.givenName": "Dee", "name.familyName": "Lee-Ray"}
    await _stored_only_accepted(s, str(created["id"]), expected)


@check("AF-005", "Extension attributes are ignored in every form", rule=ACCEPTED_RULE)
async def extensions_ignored(s: Session) -> None:
    """Extension schemas (RFC 7643 §3.3; enterprise User §4.3 and a vendor one) in POST, in a
    PATCH path URN and as a path-less URN key (Entra, ``manager`` as a bare id) are accepted
    and never stored or returned."""
    user_name = s.unique("ext")
    vendor = "urn:example:params:scim:schemas:extension:conformance:2.0:User"
    body = scim.user_body(user_name, schemas=[scim.USER, scim.ENTERPRISE_USER, vendor])
    body[scim.ENTERPRISE_USER] = {"employeeNumber": "E-31337", "department": "Springfield"}
    body[vendor] = {"badge": "Springfield"}
    response = await s.scim("POST", "/Users", json=body)
    created = s.expect_status(response, 201, doing="creating a user with extensions")
    user_id = str(scim.attr(created, "id"))
    actions.delete_later(s, f"/Users/{user_id}")
    _kept_only_accepted(s, response, created, "POST with extensions")
    ops = scim.patch(
        {"op": "add", "path": f"{scim.ENTERPRISE_USER}:employeeNumber", "value": "E-31337"},
        {"op": "replace", "value": {f"{scim.ENTERPRISE_USER}:manager": user_id}},
        {"op": "Add", "value": {f"{scim.ENTERPRISE_USER}:department": "Springfield"}},
    )
    await _patched(s, user_id, ops, "PATCH of extension attributes")
    await _stored_only_accepted(s, user_id, scim.accepted_view(body))


@check(
    "AF-006", "Only the primary (else work) email and the mobile phone are kept", rule=ACCEPTED_RULE
)
async def email_and_phone_choice(s: Session) -> None:
    """Of several emails the platform keeps the primary one, else the work one; of several
    phone numbers only the mobile one (RFC 7643 §2.4 ``primary`` and canonical ``type``)."""
    for label, emails, kept in (
        ("work", [("home", False), ("work", False)], "work"),
        ("primary", [("home", True), ("work", False)], "home"),
    ):
        name = s.unique(label)
        body = scim.user_body(name)
        body["emails"] = [
            {"value": f"{name}-{kind}@example.org", "type": kind, "primary": primary}
            for kind, primary in emails
        ]
        body["phoneNumbers"] = [{"value": "+1 555 0199", "type": "work"}, body["phoneNumbers"][0]]
        created = await actions.create_user(s, label, body=body)
        await _stored_only_accepted(
            s,
            str(created["id"]),
            scim.accepted_view(body) | {"email": f"{name}-{kept}@example.org"},
        )


@check(
    "AF-007",
    "Responses carry only attributes the Schemas endpoint announces",
    rule="RFC 7643 §7; RFC 7644 §4",
)
async def announced_only(s: Session) -> None:
    """RFC 7644 §4: ``/Schemas`` describes the attributes the service provider supports;
    every attribute of a User response (beyond the common ``schemas``, ``id``,
    ``externalId`` and ``meta`` of RFC 7643 §3.1) is announced there."""
    schema = await actions.user_schema(s)
    if schema is None:
        s.not_applicable("the target serves no User schema at /Schemas (see RC-003)")
    announced: dict[str, set[str]] = {}
    for attribute in scim.attr(schema, "attributes") or []:
        subs = scim.attr(attribute, "subAttributes") or []
        announced[str(scim.attr(attribute, "name")).lower()] = {
            str(scim.attr(sub, "name")).lower() for sub in subs
        }
    created = await actions.create_user(s, "announced")
    common = {"schemas", "id", "externalid", "meta"}
    unknown = [k for k in created if k.lower() not in announced | dict.fromkeys(common)]
    for key, value in created.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict) and key.lower() in announced:
                unknown += [f"{key}.{k}" for k in item if k.lower() not in announced[key.lower()]]
    s.expect(not unknown, f"unannounced attributes in a User response: {unknown}", None)


@check(
    "AF-008",
    "attributes and excludedAttributes select what is returned",
    rule="RFC 7644 §3.4.2.5, §3.9",
)
async def attribute_selection(s: Session) -> None:
    """RFC 7644 §3.9 / §3.4.2.5: ``attributes`` returns only the named attributes (plus those
    ``returned: always`` such as ``id``); ``excludedAttributes`` leaves the named ones out.
    Applies to GET by id and to lists."""
    created = await actions.create_user(s, "select")
    user_id, user_name = str(created["id"]), str(created["userName"])
    only = await actions.read_user(s, user_id, attributes="userName,name.givenName")
    unwanted = [
        a
        for a in ("emails", "phoneNumbers", "active", "externalId", "name.familyName")
        if scim.attr(only, a) is not None
    ]
    s.expect(not unwanted, f"attributes=userName,name.givenName still returned {unwanted}", None)
    s.expect(
        scim.attr(only, "id") == user_id and scim.attr(only, "userName") == user_name,
        "id or userName missing with attributes=",
        None,
    )
    s.expect(
        scim.attr(only, "name.givenName") is not None, "attributes= dropped name.givenName", None
    )
    without = await actions.read_user(s, user_id, excludedAttributes="emails,name")
    kept = [a for a in ("emails", "name") if scim.attr(without, a) is not None]
    s.expect(not kept, f"excludedAttributes=emails,name still returned {kept}", None)
    s.expect(
        scim.attr(without, "userName") == user_name, "excludedAttributes dropped userName", None
    )
    response, found = await actions.filter_users(
        s, f'userName eq "{user_name}"', attributes="userName"
    )
    s.expect(len(found) == 1, "the filter did not find the user", response)
    s.expect(scim.attr(found[0], "emails") is None, "attributes= ignored on lists", response)
