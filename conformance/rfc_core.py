"""RFC core (RC): discovery, media types, error bodies and ``scimType``, creation, ETags,
uniqueness and case-insensitivity, as RFC 7643 and RFC 7644 state them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from conformance import actions, scim
from conformance.registry import check

if TYPE_CHECKING:
    import httpx

    from conformance.session import Session

SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"


def _scim_error(s: Session, response: httpx.Response, status: int, scim_type: str | None) -> None:
    """RFC 7644 §3.12: the Error schema, ``status`` as a string, and ``scimType`` if given."""
    body = s.expect_status(response, status, doing=f"expecting a {status} error")
    schemas = scim.attr(body, "schemas") or []
    s.expect(scim.ERROR in schemas, "the error body lacks the Error schema", response)
    s.expect(
        scim.attr(body, "status") == str(status), f'status is not the string "{status}"', response
    )
    if scim_type is not None:
        got = scim.attr(body, "scimType")
        s.expect(got == scim_type, f"scimType is {got!r}, not {scim_type!r}", response)


def _media_type(s: Session, response: httpx.Response, what: str) -> None:
    kind = response.headers.get("content-type", "")
    s.expect(
        kind.split(";")[0].strip().lower() == scim.MEDIA_TYPE,
        f"{what}: Content-Type is {kind!r}",
        response,
    )


@check("RC-001", "ServiceProviderConfig describes the server", rule="RFC 7643 §5; RFC 7644 §4")
async def service_provider_config(s: Session) -> None:
    """RFC 7644 §4 serves ``/ServiceProviderConfig``; RFC 7643 §5 requires ``patch``,
    ``bulk``, ``filter``, ``changePassword``, ``sort``, ``etag`` (each with a boolean
    ``supported``) and ``authenticationSchemes``."""
    response = await s.scim("GET", "/ServiceProviderConfig")
    config = s.expect_status(response, 200, doing="reading /ServiceProviderConfig")
    s.expect(SPC_SCHEMA in (scim.attr(config, "schemas") or []), "schema URN missing", response)
    for feature in ("patch", "bulk", "filter", "changePassword", "sort", "etag"):
        supported = scim.attr(config, f"{feature}.supported")
        s.expect(isinstance(supported, bool), f"{feature}.supported is not a boolean", response)
    schemes = scim.attr(config, "authenticationSchemes")
    s.expect(isinstance(schemes, list) and schemes, "no authenticationSchemes", response)


@check("RC-002", "ResourceTypes announces the User endpoint", rule="RFC 7643 §6; RFC 7644 §4")
async def resource_types(s: Session) -> None:
    """RFC 7644 §4 serves ``/ResourceTypes`` as a ListResponse; the User type (RFC 7643 §6)
    names ``/Users`` and the core User schema, and is readable at ``/ResourceTypes/User``."""
    response = await s.scim("GET", "/ResourceTypes")
    listing = s.expect_status(response, 200, doing="reading /ResourceTypes")
    users = [r for r in scim.resources(listing) if scim.attr(r, "name") == "User"]
    s.expect(users, "no User resource type", response)
    s.expect(scim.attr(users[0], "endpoint") == "/Users", "User endpoint is not /Users", response)
    s.expect(scim.attr(users[0], "schema") == scim.USER, "User schema URN is wrong", response)
    single = await s.scim("GET", "/ResourceTypes/User")
    s.expect_status(single, 200, doing="reading /ResourceTypes/User")


@check("RC-003", "Schemas describes the User schema", rule="RFC 7643 §7; RFC 7644 §4")
async def schemas(s: Session) -> None:
    """RFC 7644 §4 serves ``/Schemas`` and ``/Schemas/{id}``; the core User schema (RFC 7643
    §7) lists its attributes, ``userName`` among them."""
    response = await s.scim("GET", "/Schemas")
    listing = s.expect_status(response, 200, doing="reading /Schemas")
    users = [r for r in scim.resources(listing) if scim.attr(r, "id") == scim.USER]
    s.expect(users, "the core User schema is not listed", response)
    names = [scim.attr(a, "name") for a in scim.attr(users[0], "attributes") or []]
    s.expect("userName" in names, "the User schema does not describe userName", response)
    single = await s.scim("GET", f"/Schemas/{scim.USER}")
    s.expect_status(single, 200, doing="reading /Schemas/{User URN}")


@check("RC-004", "Responses are application/scim+json", rule="RFC 7644 §3.1, §8.1")
async def media_type(s: Session) -> None:
    """RFC 7644 §8.1 registers ``application/scim+json``; §3.1 uses it for responses: lists,
    creations and errors alike."""
    listing = await s.scim("GET", "/Users", params={"count": "1"})
    _media_type(s, listing, "a list")
    created = await s.scim("POST", "/Users", json=scim.user_body(s.unique("media")))
    _media_type(s, created, "a creation")
    if created.status_code == 201:
        actions.delete_later(s, f"/Users/{scim.attr(s.json(created), 'id')}")
    _media_type(s, await s.scim("GET", f"/Users/{uuid.uuid4()}"), "a 404 error")


@check("RC-005", "Requests sent as application/json are accepted", rule="RFC 7644 §3.8, §8.1")
async def plain_json(s: Session) -> None:
    """RFC 7644 §3.8: SCIM bodies are JSON; clients that send ``application/json`` (several
    identity providers do) are understood like ``application/scim+json``."""
    body = scim.user_body(s.unique("json"))
    response = await s.scim("POST", "/Users", json=body, content_type="application/json")
    created = s.expect_status(response, 201, doing="POST with Content-Type application/json")
    actions.delete_later(s, f"/Users/{scim.attr(created, 'id')}")


@check("RC-006", "An unknown id is 404 with a SCIM error for every method", rule="RFC 7644 §3.12")
async def unknown_id(s: Session) -> None:
    """RFC 7644 §3.12: 404 "Specified resource does not exist", as the Error schema with
    ``status`` "404", for GET, PUT, PATCH and DELETE alike."""
    path = f"/Users/{uuid.uuid4()}"
    _scim_error(s, await s.scim("GET", path), 404, None)
    _scim_error(s, await s.scim("PUT", path, json=scim.user_body(s.unique("ghost"))), 404, None)
    body = scim.patch({"op": "replace", "path": "active", "value": False})
    _scim_error(s, await s.scim("PATCH", path, json=body), 404, None)
    _scim_error(s, await s.scim("DELETE", path), 404, None)


@check("RC-007", "An invalid filter is 400 invalidFilter", rule="RFC 7644 §3.4.2.2, §3.12")
async def invalid_filter(s: Session) -> None:
    """RFC 7644 §3.12: ``invalidFilter`` "The specified filter syntax was invalid"."""
    for expression in ("userName eq", 'userName zz "x"', '(userName eq "x"'):
        response = await s.scim("GET", "/Users", params={"filter": expression})
        _scim_error(s, response, 400, "invalidFilter")


@check("RC-008", "A malformed body is 400 invalidSyntax", rule="RFC 7644 §3.12")
async def invalid_syntax(s: Session) -> None:
    """RFC 7644 §3.12: ``invalidSyntax`` "The request body message structure was invalid"."""
    headers = {"Content-Type": scim.MEDIA_TYPE, "Authorization": await s.authorization()}
    url = s.target.scim_base + "/Users"
    response = await s.request("POST", url, headers=headers, content=b'{"userName": "unclosed')
    _scim_error(s, response, 400, "invalidSyntax")


@check(
    "RC-009",
    "A duplicate userName, in any case, is 409 uniqueness",
    rule="RFC 7644 §3.3, §3.12; RFC 7643 §4.1.1",
)
async def uniqueness(s: Session) -> None:
    """RFC 7644 §3.3: 409 with ``scimType`` ``uniqueness`` when a unique attribute would be
    duplicated; ``userName`` is unique and ``caseExact: false`` (RFC 7643 §4.1.1), so a
    different-case copy is a duplicate too."""
    created = await actions.create_user(s, "dup")
    for variant in (created["userName"], str(created["userName"]).upper()):
        response = await s.scim("POST", "/Users", json=scim.user_body(variant))
        if response.status_code == 201:
            actions.delete_later(s, f"/Users/{scim.attr(s.json(response), 'id')}")
        _scim_error(s, response, 409, "uniqueness")


@check(
    "RC-010", "Creation answers 201 with Location, id and meta", rule="RFC 7644 §3.3; RFC 7643 §3.1"
)
async def creation(s: Session) -> None:
    """RFC 7644 §3.3: 201 with the created resource and a ``Location`` header equal to
    ``meta.location``; RFC 7643 §3.1: the server assigns ``id`` (a client-sent one is
    ignored) and ``meta`` with ``resourceType``, ``created``, ``lastModified``."""
    body = scim.user_body(s.unique("new"), id="client-chosen-id")
    response = await s.scim("POST", "/Users", json=body)
    created: dict[str, Any] = s.expect_status(response, 201, doing="creating a user")
    actions.delete_later(s, f"/Users/{scim.attr(created, 'id')}")
    s.expect(
        scim.attr(created, "id") not in (None, "client-chosen-id"),
        "id not server-assigned",
        response,
    )
    meta = scim.attr(created, "meta") or {}
    missing = [
        k for k in ("resourceType", "created", "lastModified", "location") if not scim.attr(meta, k)
    ]
    s.expect(not missing, f"meta lacks {missing}", response)
    s.expect(scim.attr(meta, "resourceType") == "User", "meta.resourceType is not User", response)
    location = response.headers.get("location")
    s.expect(
        location == scim.attr(meta, "location"), "Location differs from meta.location", response
    )


async def _versioned(s: Session) -> tuple[str, str]:
    await actions.require(s, "etag")
    created = await actions.create_user(s, "etag")
    response = await s.scim("GET", f"/Users/{created['id']}")
    body = s.expect_status(response, 200, doing="reading the user")
    etag, version = response.headers.get("etag"), scim.attr(body, "meta.version")
    s.expect(
        etag and etag == version, f"ETag {etag!r} differs from meta.version {version!r}", response
    )
    return str(created["id"]), str(etag)


@check("RC-011", "ETag and If-Match guard writes", rule="RFC 7644 §3.14; RFC 7232 §3.1")
async def if_match(s: Session) -> None:
    """RFC 7644 §3.14: the ``ETag`` header equals ``meta.version``; a write with a stale
    ``If-Match`` is 412 Precondition Failed, one with the current version succeeds."""
    user_id, etag = await _versioned(s)
    body = scim.patch({"op": "replace", "path": "name.givenName", "value": "Dee"})
    stale = await s.scim(
        "PATCH", f"/Users/{user_id}", json=body, headers={"If-Match": 'W/"stale-0"'}
    )
    s.expect(stale.status_code == 412, f"a stale If-Match got {stale.status_code}", stale)
    fresh = await s.scim("PATCH", f"/Users/{user_id}", json=body, headers={"If-Match": etag})
    s.expect_status(fresh, 200, 204, doing="PATCH with the current If-Match")


@check(
    "RC-012", "If-None-Match with the current version is 304", rule="RFC 7644 §3.14; RFC 7232 §3.2"
)
async def if_none_match(s: Session) -> None:
    """RFC 7644 §3.14: a GET whose ``If-None-Match`` names the current version answers 304
    Not Modified; another version gets the resource."""
    user_id, etag = await _versioned(s)
    same = await s.scim("GET", f"/Users/{user_id}", headers={"If-None-Match": etag})
    s.expect(same.status_code == 304, f"If-None-Match current got {same.status_code}", same)
    other = await s.scim("GET", f"/Users/{user_id}", headers={"If-None-Match": 'W/"other"'})
    s.expect_status(other, 200, doing="GET with a different If-None-Match")


@check(
    "RC-013",
    "Filters ignore case in names, operators and caseExact=false values",
    rule="RFC 7644 §3.4.2.2; RFC 7643 §2.1",
)
async def filter_case(s: Session) -> None:
    """RFC 7644 §3.4.2.2: attribute names and operators in filters are case-insensitive;
    string comparisons follow ``caseExact``, false for ``userName`` and ``name`` parts."""
    await actions.require(s, "filter")
    prefix, ids = await actions.filter_fixture(s)
    upper = prefix.upper()
    await actions.expect_filter(s, f'USERNAME EQ "{upper}-BRAVO"', {"bravo"}, ids)
    await actions.expect_filter(
        s, f'UserName Sw "{upper}-" AND Name.FamilyName eq "young"', {"bravo"}, ids
    )


@check("RC-014", "Attribute names in request bodies are case-insensitive", rule="RFC 7643 §2.1")
async def body_case(s: Session) -> None:
    """RFC 7643 §2.1: attribute names are case-insensitive, in PATCH paths and in values."""
    created = await actions.create_user(s, "case")
    body = scim.patch(
        {"op": "replace", "path": "NAME.GIVENNAME", "value": "Dee"},
        {"op": "replace", "value": {"EXTERNALID": "ext-upper"}},
    )
    response = await s.scim("PATCH", f"/Users/{created['id']}", json=body)
    s.expect_status(response, 200, 204, doing="PATCH with upper-case attribute names")
    stored = await actions.read_user(s, str(created["id"]))
    view = scim.accepted_view(stored)
    s.expect(view["name.givenName"] == "Dee", "NAME.GIVENNAME was not applied", None)
    s.expect(view["externalId"] == "ext-upper", "EXTERNALID was not applied", None)


@check("RC-015", "PATCH add, replace and remove with paths", rule="RFC 7644 §3.5.2.1-§3.5.2.3")
async def patch_operations(s: Session) -> None:
    """RFC 7644 §3.5.2: ``replace`` of a sub-attribute, ``add`` of a singular attribute and
    ``remove`` of a filtered multi-valued element all apply; 200 with the resource or 204."""
    created = await actions.create_user(s, "ops")
    body = scim.patch(
        {"op": "replace", "path": "name.familyName", "value": "Lee-Ray"},
        {"op": "add", "path": "externalId", "value": "ext-added"},
        {"op": "remove", "path": 'phoneNumbers[type eq "mobile"]'},
    )
    response = await s.scim("PATCH", f"/Users/{created['id']}", json=body)
    s.expect_status(response, 200, 204, doing="PATCH add/replace/remove")
    view = scim.accepted_view(await actions.read_user(s, str(created["id"])))
    want = scim.accepted_view(created) | {
        "name.familyName": "Lee-Ray",
        "externalId": "ext-added",
        "mobile": None,
    }
    s.expect(view == want, f"after PATCH the user reads {view}, expected {want}", None)


@check("RC-016", "PATCH remove without a path is 400 noTarget", rule="RFC 7644 §3.5.2.2")
async def remove_without_path(s: Session) -> None:
    """RFC 7644 §3.5.2.2: if ``path`` is unspecified for ``remove``, the operation fails with
    400 and ``scimType`` ``noTarget``."""
    created = await actions.create_user(s, "notarget")
    body = scim.patch({"op": "remove"})
    response = await s.scim("PATCH", f"/Users/{created['id']}", json=body)
    _scim_error(s, response, 400, "noTarget")
