"""Pure request builders: a directory change and a dialect in, SCIM requests out. No I/O.

Each function returns ``ScimRequest`` values (method, path relative to the SCIM base, query,
body, the statuses that count as success, a label and the subject). The engine sends them;
unit tests pin their wire shapes; load tests can import them as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulators.core.dialect import ActiveStyle, ConnectionTest, MemberRemoval, UpdateStyle
from simulators.core.mapping import ENTERPRISE_USER, extract, group_body, user_body

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from simulators.core.dialect import Dialect
    from simulators.core.directory import Person

__all__ = [
    "PATCH_OP",
    "ScimRequest",
    "connection_test",
    "create_group",
    "create_user",
    "delete_group",
    "delete_user",
    "get_group",
    "get_user",
    "list_users",
    "lookup_group",
    "lookup_user",
    "member_changes",
    "patch",
    "rename_group",
    "service_provider_config",
    "set_active",
    "update_user",
]

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
OK_WRITE = frozenset({200, 204})
_MULTI = ("emails[", "phoneNumbers[", "addresses[")


@dataclass(frozen=True)
class ScimRequest:
    method: str
    path: str
    label: str
    query: tuple[tuple[str, str], ...] = ()
    body: dict[str, Any] | None = None
    ok: frozenset[int] = frozenset({200})
    subject: str | None = None


def quoted(value: str) -> str:
    """A filter string literal (RFC 7644 §3.4.2.2): JSON string escaping."""
    return json.dumps(value, ensure_ascii=False)


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def connection_test(dialect: Dialect, guid: str) -> list[ScimRequest]:
    kind = dialect.connection_test
    if kind is ConnectionTest.FILTER_GUID:
        attribute = dialect.match_attributes[0]
        users = ScimRequest(
            "GET",
            "/Users",
            "test_connection.users",
            (("filter", f"{attribute} eq {quoted(guid)}"),),
        )
        if not dialect.push_groups:
            return [users]
        query = (("excludedAttributes", "members"), ("filter", f"displayName eq {quoted(guid)}"))
        return [users, ScimRequest("GET", "/Groups", "test_connection.groups", query)]
    if kind is ConnectionTest.PAGE:
        paged = (("startIndex", "1"), ("count", str(dialect.connection_test_count)))
        return [ScimRequest("GET", "/Users", "test_connection.users", paged)]
    if kind is ConnectionTest.COUNT_PROBE:
        probe = (("count", str(dialect.connection_test_count)),)
        return [ScimRequest("GET", "/Users", "test_connection.users", probe)]
    return []


def lookup_user(
    dialect: Dialect,
    attribute: str,
    value: str,
    *,
    subject: str | None = None,
    label: str = "user.lookup",
) -> ScimRequest:
    query: tuple[tuple[str, str], ...] = (("filter", f"{attribute} eq {quoted(value)}"),)
    if dialect.lookup_paging is not None:
        start, count = dialect.lookup_paging
        query += (("startIndex", str(start)), ("count", str(count)))
    ok = frozenset({200}) | dialect.lookup_miss_statuses
    return ScimRequest("GET", "/Users", label, query, ok=ok, subject=subject)


def create_user(
    dialect: Dialect,
    person: Person,
    *,
    password: str | None = None,
    label: str = "user.create",
    values: dict[str, Any] | None = None,
) -> ScimRequest:
    body = user_body(dialect, person, active=person.active, password=password, values=values)
    return ScimRequest("POST", "/Users", label, body=body, ok=frozenset({201}), subject=_u(person))


def get_user(server_id: str, *, subject: str | None = None, label: str = "user.get") -> ScimRequest:
    return ScimRequest("GET", f"/Users/{server_id}", label, subject=subject)


def delete_user(
    server_id: str, *, subject: str | None = None, label: str = "user.delete"
) -> ScimRequest:
    ok = frozenset({200, 204, 404})  # a 404 means already gone (idp-behaviors §1.5)
    return ScimRequest("DELETE", f"/Users/{server_id}", label, ok=ok, subject=subject)


def list_users(
    start: int, count: int, *, cursor: str | None = None, label: str = "import.page"
) -> ScimRequest:
    """A page by ``startIndex`` (RFC 7644 §3.4.2.4), or by ``cursor`` (RFC 9865) when one
    is given ("" for the first page)."""
    if cursor is not None:
        return ScimRequest("GET", "/Users", label, (("cursor", cursor), ("count", str(count))))
    return ScimRequest("GET", "/Users", label, (("startIndex", str(start)), ("count", str(count))))


def service_provider_config(*, label: str = "import.config") -> ScimRequest:
    return ScimRequest("GET", "/ServiceProviderConfig", label)


def _u(person: Person) -> str:
    return f"user:{person.key}"


def _path(key: str, dialect: Dialect) -> str:
    if key.startswith(_MULTI):
        attribute, rest = key.split("[", 1)
        kind, _, sub = rest.partition("]")
        return f'{attribute}[type eq "{kind}"].{sub.lstrip(".") or "value"}'
    if key in ("employeeNumber", "department"):
        return f"{ENTERPRISE_USER}:{key}"
    if key == "manager":
        return f"{ENTERPRISE_USER}:manager" if dialect.manager_form == "urn-string" else "manager"
    return key


def _patch_value(key: str, value: Any, dialect: Dialect) -> Any:
    if key == "manager" and dialect.manager_form != "urn-string":
        return [{"value": value}]
    if key == "roles":  # AppRoleAssignmentsComplex: JSON inside a string (§1.3 Roles)
        return [{"value": json.dumps({"id": r, "value": r, "displayName": r})} for r in value]
    return value


def update_user(
    dialect: Dialect,
    person: Person,
    server_id: str,
    changed: dict[str, Any],
    *,
    current: dict[str, Any] | None = None,
    active: bool = True,
) -> ScimRequest:
    """Profile changes as PUT (whole object) or PATCH (per attribute, or folded)."""
    subject = _u(person)
    if dialect.update_style is UpdateStyle.PUT:
        body = user_body(dialect, person, active=active, server_id=server_id)
        body.setdefault("meta", {"resourceType": "User"})
        body.setdefault("groups", [])
        return ScimRequest("PUT", f"/Users/{server_id}", "user.put", body=body, subject=subject)
    ops: list[dict[str, Any]] = []
    folded: dict[str, Any] = {}
    for key, value in changed.items():
        empty = current is not None and extract(current, key) is None
        name = "add" if dialect.add_when_empty and empty else "replace"
        multi = key.startswith(_MULTI) or key in ("manager", "roles")
        if dialect.update_style is UpdateStyle.PATCH_FOLDED and name == "replace" and not multi:
            dotted = f"{ENTERPRISE_USER}:{key}" if key in ("employeeNumber", "department") else key
            folded[dotted] = value
            continue
        op = {"op": dialect.op(name), "path": _path(key, dialect)}
        ops.append({**op, "value": _patch_value(key, value, dialect)})
    if len(folded) == 1:
        ((key, value),) = folded.items()
        ops.append({"op": dialect.op("replace"), "path": key, "value": value})
    elif folded:
        ops.append({"op": dialect.op("replace"), "value": folded})
    label = "user.manager" if set(changed) == {"manager"} else "user.update"
    return ScimRequest(
        "PATCH", f"/Users/{server_id}", label, body=patch(*ops), ok=OK_WRITE, subject=subject
    )


def set_active(dialect: Dialect, person: Person, server_id: str, active: bool) -> ScimRequest:
    """Deactivate or reactivate, in the dialect's shape."""
    label = "user.reactivate" if active else "user.deactivate"
    path, subject = f"/Users/{server_id}", _u(person)
    if dialect.active_style is ActiveStyle.PUT:
        body = user_body(dialect, person, active=active, server_id=server_id)
        body.setdefault("meta", {"resourceType": "User"})
        body.setdefault("groups", [])
        return ScimRequest("PUT", path, label, body=body, subject=subject)
    value = dialect.boolean(active)
    if dialect.active_style is ActiveStyle.PATCH_PATHLESS:
        body = patch({"op": dialect.op("replace"), "value": {"active": value}})
    else:
        body = patch({"op": dialect.op("replace"), "path": "active", "value": value})
    return ScimRequest("PATCH", path, label, body=body, ok=OK_WRITE, subject=subject)


def lookup_group(dialect: Dialect, name: str, *, subject: str | None = None) -> ScimRequest:
    query: tuple[tuple[str, str], ...] = (("filter", f"displayName eq {quoted(name)}"),)
    if dialect.group_lookup_excludes_members:
        query = (("excludedAttributes", "members"), *query)
    return ScimRequest("GET", "/Groups", "group.lookup", query, subject=subject)


def get_group(server_id: str, *, label: str = "group.get") -> ScimRequest:
    return ScimRequest("GET", f"/Groups/{server_id}", label)


def create_group(
    dialect: Dialect, name: str, *, external_id: str | None, subject: str | None = None
) -> ScimRequest:
    body = group_body(dialect, name, external_id=external_id)
    return ScimRequest(
        "POST", "/Groups", "group.create", body=body, ok=frozenset({201}), subject=subject
    )


def delete_group(server_id: str, *, subject: str | None = None) -> ScimRequest:
    ok = frozenset({200, 204, 404})
    return ScimRequest("DELETE", f"/Groups/{server_id}", "group.delete", ok=ok, subject=subject)


def rename_group(
    dialect: Dialect, server_id: str, name: str, *, subject: str | None = None
) -> ScimRequest:
    if dialect.rename_pathless:  # Okta: path-less, with the id inside (§2.6)
        body = patch({"op": dialect.op("replace"), "value": {"id": server_id, "displayName": name}})
    else:
        body = patch({"op": dialect.op("replace"), "path": "displayName", "value": name})
    path = f"/Groups/{server_id}"
    return ScimRequest("PATCH", path, "group.rename", body=body, ok=OK_WRITE, subject=subject)


def member_changes(
    dialect: Dialect,
    server_id: str,
    name: str,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    members: Iterable[str] = (),
    displays: dict[str, str] | None = None,
    subject: str | None = None,
) -> list[ScimRequest]:
    """Membership deltas; ``members`` is the full list, used by PUT-only dialects."""
    path = f"/Groups/{server_id}"
    if dialect.member_removal is MemberRemoval.PUT_GROUP:
        body = group_body(dialect, name, members=sorted(members), server_id=server_id)
        return [ScimRequest("PUT", path, "group.put", body=body, subject=subject)]
    names = displays or {}

    def member(value: str) -> dict[str, str]:
        return {"value": value, "display": names[value]} if value in names else {"value": value}

    adds = [{"op": dialect.op("add"), "path": "members", "value": [member(m) for m in add]}]
    if dialect.member_removal is MemberRemoval.VALUE_LIST:
        op = {"op": dialect.op("remove"), "path": "members"}
        removes = [{**op, "value": [{"value": m} for m in remove]}]
    else:
        removes = [
            {"op": dialect.op("remove"), "path": f"members[value eq {quoted(m)}]"} for m in remove
        ]
    if dialect.combine_member_ops:
        ops = (removes if remove else []) + (adds if add else [])
        if not ops:
            return []
        return [
            ScimRequest(
                "PATCH", path, "group.members", body=patch(*ops), ok=OK_WRITE, subject=subject
            )
        ]
    out = []
    if add:
        out.append(
            ScimRequest(
                "PATCH", path, "group.add_members", body=patch(*adds), ok=OK_WRITE, subject=subject
            )
        )
    if remove:
        out.append(
            ScimRequest(
                "PATCH",
                path,
                "group.remove_members",
                body=patch(*removes),
                ok=OK_WRITE,
                subject=subject,
            )
        )
    return out
