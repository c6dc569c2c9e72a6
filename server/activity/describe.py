"""Pure functions that turn what was seen of a SCIM exchange into an activity entry's words:
which operation it was, which attribute names it set, and what was wrong when refused.

Attribute names come from the platform's own reading of a body (``server.mapping.inbound``:
the accepted attributes, the same reduction the SCIM handlers apply), so an attribute the
platform ignores is never listed; values are never kept.
"""

from __future__ import annotations

import re
from typing import Any

from scim2_models import Group, Name, User

from server.mapping.inbound import (
    GROUP_PROFILE,
    USER_PROFILE,
    Profile,
    accepted_patch,
    accepted_resource,
)
from server.ops.edge import DEADLINE_DETAIL
from server.scim.operations.failures import UNAVAILABLE

__all__ = ["attribute_names", "explain", "operation_of", "plain_route"]

# lower-case name -> the schema's spelling, from scim2-models' own field aliases
_SPELLING = {
    str(f.serialization_alias).lower(): str(f.serialization_alias)
    for model in (User, Group, Name)
    for f in model.model_fields.values()
    if f.serialization_alias
}
_TYPED_PARAMETER = re.compile(r"\{(\w+):\w+\}")
_REQUEST_ID = re.compile(r"\s*\(request id [^)]*\)$")
_VERBS = {"POST": "create", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}


def plain_route(template: str) -> str:
    """A route template without its parameters' types: ``{user_id:str}`` -> ``{user_id}``."""
    return _TYPED_PARAMETER.sub(r"{\1}", template)


def operation_of(method: str, route: str) -> str:
    """An operation code of :data:`server.activity.records.OPERATIONS`."""
    parts = route.split("/")
    tail = parts[4:] if len(parts) > 4 else []  # after /scim/v2/{practice_id}
    if not tail or tail[0] in {"ServiceProviderConfig", "ResourceTypes", "Schemas"}:
        return "discovery" if tail else "other"
    if tail == [".search"]:
        return "search"
    kind = {"Users": "user", "Groups": "group"}.get(tail[0])
    if kind is None:
        return "other"
    if len(tail) == 1:
        return f"{kind}.create" if method == "POST" else f"{kind}.search"
    if tail[1] == ".search":
        return f"{kind}.search"
    if method == "GET":
        return f"{kind}.read"
    return f"{kind}.{_VERBS[method]}" if method in _VERBS else "other"


def _spelled(name: str) -> str:
    return _SPELLING.get(name.lower(), name)


def _resource_names(body: dict[str, Any], profile: Profile) -> list[str]:
    names: list[str] = []
    for key, value in body.items():
        root = profile.canonical(key)
        if root is None:
            continue
        dotted = key.lower().removeprefix(profile.core_urn.lower() + ":")
        if "." in dotted:
            names.append(f"{_spelled(root)}.{_spelled(dotted.rsplit('.', 1)[1])}")
        elif root == "name" and isinstance(value, dict) and value:
            names += [f"name.{_spelled(sub)}" for sub in value]
        else:
            names.append(_spelled(root))
    return names


def _patch_names(body: dict[str, Any], profile: Profile) -> list[str]:
    names: list[str] = []
    for key, operations in body.items():
        if key.lower() != "operations" or not isinstance(operations, list):
            continue
        for operation in operations:
            if not isinstance(operation, dict):
                continue
            fields = {k.lower(): v for k, v in operation.items()}
            path, value = fields.get("path"), fields.get("value")
            if isinstance(path, str) and (root := profile.canonical(path)) is not None:
                lowered = path.lower().removeprefix(profile.core_urn.lower() + ":")
                sub = lowered.rsplit(".", 1)[1] if root == "name" and "." in lowered else None
                names.append(f"name.{_spelled(sub)}" if sub else _spelled(root))
            elif path is None and isinstance(value, dict):
                names += _resource_names(value, profile)
    return names


def attribute_names(method: str, operation: str, body: Any) -> tuple[str, ...]:
    """The names of the accepted attributes a POST, PUT or PATCH body sets, in order, once
    each; () for anything else or a body that is not a JSON object."""
    if not isinstance(body, dict) or method not in {"POST", "PUT", "PATCH"}:
        return ()
    kind = operation.split(".", maxsplit=1)[0]
    profile = {"user": USER_PROFILE, "group": GROUP_PROFILE}.get(kind)
    if profile is None or operation.endswith(".search"):
        return ()
    try:
        if method == "PATCH":
            names = _patch_names(accepted_patch(body, profile), profile)
        else:
            names = _resource_names(accepted_resource(body, profile), profile)
    except Exception:
        return ()
    return tuple(dict.fromkeys(names))


def explain(
    status: int, scim_type: str | None, detail: str | None, *, holder: str | None = None
) -> str | None:
    """What was wrong with a refused request, in words for a practice administrator
    (None for one that succeeded). ``holder``: who already has a userName or email that a
    refused request sent."""
    if status < 400:
        return None
    said = _REQUEST_ID.sub("", detail or "").strip()
    if status == 401:
        return f"The identity provider's credential was not accepted: {said or 'none was sent'}."
    if status == 403:
        return f"The identity provider is not allowed to do this: {said}."
    if status == 404:
        return "The identity provider asked for an account or group that does not exist here."
    if status == 409:
        field = "userName" if said.lower().startswith("username") else None
        field = field or ("email address" if said.lower().startswith("email") else None)
        field = field or ("group name" if said.lower().startswith("displayname") else "value")
        who = holder or ("another group" if field == "group name" else "another staff account")
        article = "an" if field.startswith("email") else "a"
        return f"The identity provider sent {article} {field} already used by {who}."
    if status == 412:
        return (
            "The identity provider's copy was out of date (its version did not match); "
            "it should read the account again and retry."
        )
    if status == 413:
        return "The identity provider sent a request larger than the platform accepts."
    if status == 429:
        return "The identity provider sent too many requests at once and was asked to wait."
    if status == 503 and said.startswith(DEADLINE_DETAIL):
        return (
            "The platform took too long to answer and stopped the request before it finished; "
            "the identity provider may retry."
        )
    if status == 503 and said.startswith(UNAVAILABLE):
        return (
            "The platform's database was busy or out of reach, so nothing was changed; "
            "the identity provider may retry."
        )
    if status >= 500:
        return "The platform could not answer at that moment; the identity provider may retry."
    kind = f" ({scim_type})" if scim_type else ""
    return f"The identity provider sent something the platform could not accept{kind}: {said}."
