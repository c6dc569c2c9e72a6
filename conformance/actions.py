"""SCIM steps shared by the checks: create a user (and clean it up), read it, list, discover."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance import scim

if TYPE_CHECKING:
    import httpx

    from conformance.session import Session

__all__ = [
    "create_user",
    "delete_later",
    "filter_users",
    "read_user",
    "resource_types",
    "service_provider_config",
    "supports",
    "user_schema",
]


def delete_later(
    s: Session, path: str, *, base: str | None = None, auth: str | None = None
) -> None:
    """Delete ``path`` when the check ends (a 404 then is fine: it is already gone)."""

    async def delete() -> None:
        if auth is None:
            await s.scim("DELETE", path, base=base)
        else:
            await s.scim("DELETE", path, base=base, auth=auth)

    s.defer(delete)


async def create_user(
    s: Session, label: str, *, body: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """POST a User (RFC 7644 §3.3) that the check owns; fails the check unless 201 with id."""
    payload = body if body is not None else scim.user_body(s.unique(label), **extra)
    response = await s.scim("POST", "/Users", json=payload)
    created = s.expect_status(response, 201, doing="creating a user")
    user_id = scim.attr(created, "id")
    s.expect(isinstance(user_id, str) and user_id, "the created user has no id", response)
    delete_later(s, f"/Users/{user_id}")
    return dict(created)


async def read_user(s: Session, user_id: str, **params: str) -> dict[str, Any]:
    response = await s.scim("GET", f"/Users/{user_id}", params=params or None)
    return dict(s.expect_status(response, 200, doing="reading the user"))


async def filter_users(
    s: Session, expression: str, **params: str
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    """``GET /Users?filter=`` (RFC 7644 §3.4.2.2); fails unless 200 with a ListResponse."""
    response = await s.scim("GET", "/Users", params={"filter": expression, **params})
    listing = s.expect_status(response, 200, doing=f"filtering with {expression}")
    schemas = scim.attr(listing, "schemas") or []
    s.expect(scim.LIST_RESPONSE in schemas, "the body is not a ListResponse", response)
    return response, scim.resources(listing)


async def service_provider_config(s: Session) -> dict[str, Any] | None:
    """``/ServiceProviderConfig`` (RFC 7644 §4), or ``None`` when the target serves none."""
    if (cached := s.recall("spc")) is not None:
        return cached or None
    response = await s.scim("GET", "/ServiceProviderConfig")
    config = s.json(response) if response.status_code == 200 and response.content else None
    return s.remember("spc", config if isinstance(config, dict) else {}) or None


async def supports(s: Session, feature: str) -> bool:
    """Whether the ServiceProviderConfig announces ``feature`` (RFC 7643 §5): ``filter``,
    ``sort``, ``etag``, ``patch``, ``bulk`` or ``changePassword``."""
    config = await service_provider_config(s)
    return bool(config) and scim.attr(config, f"{feature}.supported") is True


async def require(s: Session, feature: str) -> None:
    """Not applicable unless the ServiceProviderConfig announces ``feature``."""
    if not await supports(s, feature):
        s.not_applicable(f"the target's ServiceProviderConfig does not announce {feature}")


async def resource_types(s: Session) -> list[dict[str, Any]] | None:
    """``/ResourceTypes`` (RFC 7644 §4) as a list, or ``None`` when not served."""
    response = await s.scim("GET", "/ResourceTypes")
    if response.status_code != 200:
        return None
    payload = s.json(response)
    return scim.resources(payload) if isinstance(payload, dict) else None


async def user_schema(s: Session) -> dict[str, Any] | None:
    """The core User schema from ``/Schemas`` (RFC 7643 §7), or ``None`` when not served."""
    response = await s.scim("GET", f"/Schemas/{scim.USER}")
    if response.status_code == 200 and isinstance(payload := s.json(response), dict):
        return payload
    response = await s.scim("GET", "/Schemas")
    if response.status_code != 200:
        return None
    found = [r for r in scim.resources(s.json(response)) if scim.attr(r, "id") == scim.USER]
    return found[0] if found else None


FIXTURE_USERS: dict[str, dict[str, Any]] = {
    "alpha": {"given": "Ana", "family": "Zimmer", "domain": "example.org", "active": True},
    "bravo": {"given": "Ben", "family": "Young", "domain": "example.org", "active": False},
    "charlie": {"given": "Cat", "family": "Xu", "domain": "example.net", "active": True},
}


async def filter_fixture(s: Session) -> tuple[str, dict[str, str]]:
    """Three users under one fresh prefix: ``{prefix}-alpha`` (active, mobile phone),
    ``{prefix}-bravo`` (inactive, no phone) and ``{prefix}-charlie`` (active, mobile,
    ``example.net`` email). Returns the prefix and each label's id."""
    prefix = s.unique("flt")
    ids: dict[str, str] = {}
    for label, spec in FIXTURE_USERS.items():
        user_name = f"{prefix}-{label}"
        body = scim.user_body(
            user_name,
            externalId=f"{prefix}-x-{label}",
            name={"givenName": spec["given"], "familyName": spec["family"]},
            emails=[{"value": f"{user_name}@{spec['domain']}", "type": "work", "primary": True}],
            active=spec["active"],
        )
        if label == "bravo":
            del body["phoneNumbers"]
        ids[label] = str((await create_user(s, label, body=body))["id"])
    return prefix, ids


async def expect_filter(
    s: Session, expression: str, expected: set[str], ids: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    """The filter finds exactly the ``expected`` fixture users, and ``totalResults`` agrees."""
    response, found = await filter_users(s, expression, **params)
    labels = {label for label, user_id in ids.items() if user_id in {r.get("id") for r in found}}
    strangers = [r.get("id") for r in found if r.get("id") not in ids.values()]
    s.expect(not strangers, f"{expression!r} matched users outside the fixture", response)
    want, got = sorted(expected), sorted(labels)
    s.expect(labels == expected, f"{expression!r} matched {got}, expected {want}", response)
    total = scim.attr(s.json(response), "totalResults")
    s.expect(total == len(expected), f"{expression!r}: totalResults is {total!r}", response)
    return found
