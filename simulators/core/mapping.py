"""Person → SCIM User body, and SCIM resource → comparable values. Pure.

Attributes are named by *compare keys* (``emails[work]``, ``phoneNumbers[mobile]``,
``addresses[work].locality``, ``employeeNumber`` …) so that what a dialect sends, what the
server returns and what a target keeps can all be compared on the same footing.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from simulators.core.dialect import USER_ATTRIBUTES

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from simulators.core.dialect import Dialect
    from simulators.core.directory import Person

__all__ = [
    "CORE_USER",
    "ENTERPRISE_USER",
    "GROUP",
    "SCIMLAB_KEPT",
    "UNIQUE_WORK_EMAIL",
    "compare_keys",
    "desired_values",
    "extract",
    "group_body",
    "mismatches",
    "user_body",
]

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_KEYS = ("employeeNumber", "department", "manager")

# What scimlab's server keeps (README "What scimlab is"); everything else it drops.
#: Not an attribute: the target refuses a second user with the same work e-mail (409). Our
#: server's rule, not the RFC's (RFC 7643 §4.1.2 makes no e-mail unique), so a scenario that
#: needs it ``requires`` it and is not applicable on a target that does not say it does.
UNIQUE_WORK_EMAIL = "unique:emails[work]"
SCIMLAB_KEPT = frozenset(
    {
        UNIQUE_WORK_EMAIL,
        "userName",
        "name.givenName",
        "name.familyName",
        "phoneNumbers[mobile]",
        "emails[work]",
        "active",
        "externalId",
    }
)


def _external_id(dialect: Dialect, person: Person) -> str | None:
    source = dialect.external_id_source
    if source == "mailNickname":
        return person.mail_nickname
    if source == "objectId":
        return person.object_id
    if source == "oktaId":
        return person.okta_id
    return person.external_id


def _source_value(
    dialect: Dialect, person: Person, key: str, resolve: Callable[[str], str | None]
) -> Any:
    simple: dict[str, Any] = {
        "userName": person.user_name,
        "displayName": person.full_name,
        "title": person.title,
        "name.givenName": person.given_name,
        "name.familyName": person.family_name,
        "name.middleName": person.middle_name,
        "name.formatted": person.full_name,
        "emails[work]": person.email,
        "phoneNumbers[work]": person.work_phone,
        "phoneNumbers[mobile]": person.mobile,
        "addresses[work].locality": person.locality,
        "addresses[work].region": person.region,
        "addresses[work].country": person.country,
        "employeeNumber": person.employee_number,
        "department": person.department,
        "locale": "en-US",
    }
    if key in simple:
        return simple[key]
    if key == "externalId":
        return _external_id(dialect, person)
    if key == "manager":
        return resolve(person.manager) if person.manager else None
    if key == "roles":
        return sorted(person.roles) or None
    raise ValueError(f"unknown attribute key {key!r}")


def desired_values(
    dialect: Dialect, person: Person, resolve: Callable[[str], str | None] = lambda _k: None
) -> dict[str, Any]:
    """The mapped attributes with a value (null sources are skipped, idp-behaviors §1.3)."""
    values = {k: _source_value(dialect, person, k, resolve) for k in dialect.user_attributes}
    return {k: v for k, v in values.items() if v is not None}


def _complex_attributes(v: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if "emails[work]" in v:
        body["emails"] = [{"primary": True, "type": "work", "value": v["emails[work]"]}]
    name = {k.split(".", 1)[1]: v[k] for k in v if k.startswith("name.")}
    if name:
        body["name"] = name
    phones = [
        {"type": t, "value": v[f"phoneNumbers[{t}]"]}
        for t in ("work", "mobile")
        if f"phoneNumbers[{t}]" in v
    ]
    if phones:
        body["phoneNumbers"] = phones
    address = {k.rsplit(".", 1)[1]: v[k] for k in v if k.startswith("addresses[work].")}
    if address:
        body["addresses"] = [{"type": "work", **address, "primary": False}]
    if "roles" in v:
        body["roles"] = [
            {"primary": i == 0, "type": "WindowsAzureActiveDirectoryRole", "value": role}
            for i, role in enumerate(v["roles"])
        ]
    return body


def user_body(
    dialect: Dialect,
    person: Person,
    *,
    active: bool,
    server_id: str | None = None,
    password: str | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The POST (or, with ``server_id``, PUT) body; ``manager`` is never in it (a 2nd pass).
    ``values`` are the person's desired values when the caller has them already."""
    v = dict(values) if values is not None else desired_values(dialect, person)
    v.pop("manager", None)
    enterprise = {k: v.pop(k) for k in ENTERPRISE_KEYS if k in v}
    schemas = [CORE_USER]
    if enterprise or dialect.sends_enterprise_schema:
        schemas.append(ENTERPRISE_USER)
    body: dict[str, Any] = {"schemas": schemas}
    if server_id is not None:
        body["id"] = server_id
    for key in ("externalId", "userName"):
        if key in v:
            body[key] = v[key]
    body["active"] = dialect.boolean(active, in_patch=False)
    for key in ("displayName", "title", "locale"):
        if key in v:
            body[key] = v[key]
    body.update(_complex_attributes(v))
    if enterprise:
        body[ENTERPRISE_USER] = enterprise
    if dialect.sends_meta:
        body["meta"] = {"resourceType": "User"}
    if dialect.sends_groups_array:
        body["groups"] = []
    if password is not None:
        body["password"] = password
    return body


def group_body(
    dialect: Dialect,
    name: str,
    *,
    external_id: str | None = None,
    members: Iterable[str] = (),
    server_id: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [GROUP, *dialect.group_extra_schemas]}
    if server_id is not None:
        body["id"] = server_id
    if external_id is not None:
        body["externalId"] = external_id
    body["displayName"] = name
    member_list = [{"value": m} for m in members]
    if member_list or dialect.group_create_sends_members or server_id is not None:
        body["members"] = member_list
    if dialect.sends_meta:
        body["meta"] = {"resourceType": "Group"}
    return body


def _typed(items: Any, kind: str, *, primary_fallback: bool = False) -> dict[str, Any] | None:
    if not isinstance(items, list):
        return None
    dicts = [i for i in items if isinstance(i, dict)]
    for item in dicts:
        if str(item.get("type", "")).lower() == kind:
            return item
    if primary_fallback:
        for item in dicts:
            if item.get("primary") is True:
                return item
    return None


def extract(resource: dict[str, Any], key: str) -> Any:
    """The value a compare key names in a SCIM resource (``None`` when absent)."""
    if key.startswith("name."):
        name = resource.get("name")
        return name.get(key[5:]) if isinstance(name, dict) else None
    if key == "emails[work]":
        item = _typed(resource.get("emails"), "work", primary_fallback=True)
        return item.get("value") if item else None
    if key.startswith("phoneNumbers["):
        item = _typed(resource.get("phoneNumbers"), key[13:-1])
        return item.get("value") if item else None
    if key.startswith("addresses[work]."):
        item = _typed(resource.get("addresses"), "work")
        return item.get(key.rsplit(".", 1)[1]) if item else None
    if key in ENTERPRISE_KEYS:
        ext = resource.get(ENTERPRISE_USER)
        value = ext.get(key) if isinstance(ext, dict) else None
        return value.get("value") if key == "manager" and isinstance(value, dict) else value
    if key == "roles":
        roles = resource.get("roles")
        if not isinstance(roles, list) or not roles:
            return None
        return sorted(_role(r.get("value")) for r in roles if isinstance(r, dict))
    return resource.get(key)


def compare_keys(spec: str) -> frozenset[str]:
    """``scimlab`` (what our server keeps), ``all``, or a comma list of compare keys."""
    if spec == "scimlab":
        return SCIMLAB_KEPT
    known = frozenset(USER_ATTRIBUTES) | {"active"}
    if spec == "all":
        return known
    known |= {UNIQUE_WORK_EMAIL}
    keys = frozenset(k.strip() for k in spec.split(",") if k.strip())
    if keys - known:
        raise ValueError(f"--compare: unknown attributes {sorted(keys - known)}")
    return keys


def _role(value: Any) -> str:
    """A role value; Entra's JSON-in-a-string form counts by the ``value`` inside it."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            inner = json.loads(value)
        except ValueError:
            return value
        if isinstance(inner, dict) and "value" in inner:
            return str(inner["value"])
    return str(value)


def mismatches(
    expected: dict[str, Any], resource: dict[str, Any], keys: Iterable[str]
) -> dict[str, tuple[Any, Any]]:
    """``{key: (expected, actual)}`` for every compared key that differs (strict types)."""
    out: dict[str, tuple[Any, Any]] = {}
    for key in keys:
        if key not in expected:
            continue
        want, got = expected[key], extract(resource, key)
        if want != got or type(want) is not type(got):
            out[key] = (want, got)
    return out
