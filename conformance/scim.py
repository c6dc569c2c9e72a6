"""Pure SCIM vocabulary for the checks: URNs, request bodies, and readers of responses.

Attribute names are compared case-insensitively (RFC 7643 §2.1) when reading responses.
The accepted-attribute profile is the platform's: ``userName``, ``name.givenName``,
``name.familyName``, the mobile ``phoneNumbers`` value, the primary (else work) ``emails``
value, ``active`` and ``externalId``; everything else must be ignored.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

__all__ = [
    "ENTERPRISE_USER",
    "ERROR",
    "GROUP",
    "LIST_RESPONSE",
    "MEDIA_TYPE",
    "PATCH_OP",
    "SEARCH_REQUEST",
    "USER",
    "accepted_view",
    "attr",
    "basic_header",
    "encode",
    "patch",
    "resources",
    "unaccepted_attributes",
    "user_body",
]

MEDIA_TYPE = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"

#: What a User response may carry under the accepted-attribute profile (lower case).
_ALLOWED_TOP = {"schemas", "id", "externalid", "meta", "username", "name", "active", "emails"}
_ALLOWED_TOP |= {"phonenumbers", "groups"}
_ALLOWED_NAME = {"givenname", "familyname"}
_ALLOWED_ITEM = {"value", "type", "primary"}


def encode(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def basic_header(user: str, password: str) -> str:
    """RFC 6749 §2.3.1: client id and secret are form-encoded before Basic (RFC 7617)."""
    raw = f"{quote(user, safe='')}:{quote(password, safe='')}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def user_body(user_name: str, **extra: Any) -> dict[str, Any]:
    """A User carrying every accepted attribute, plus ``extra`` top-level keys."""
    body: dict[str, Any] = {
        "schemas": [USER],
        "userName": user_name,
        "externalId": f"ext-{user_name}",
        "name": {"givenName": "Dana", "familyName": "Lee"},
        "emails": [{"value": f"{user_name}@example.org", "type": "work", "primary": True}],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "mobile"}],
        "active": True,
    }
    body.update(extra)
    return body


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def attr(resource: Any, name: str) -> Any:
    """The value of ``name`` (dotted for sub-attributes), matching names case-insensitively."""
    current = resource
    for part in name.split("."):
        if not isinstance(current, dict):
            return None
        current = next((v for k, v in current.items() if k.lower() == part.lower()), None)
    return current


def resources(listing: Any) -> list[dict[str, Any]]:
    found = attr(listing, "Resources")
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def _item_value(items: Any, *, wanted_type: str | None, primary: bool = False) -> Any:
    if not isinstance(items, list):
        return None
    for item in items:
        if not isinstance(item, dict):
            continue
        if primary and attr(item, "primary") is True:
            return attr(item, "value")
        kind = attr(item, "type")
        if wanted_type and isinstance(kind, str) and kind.lower() == wanted_type:
            return attr(item, "value")
    return None


def accepted_view(resource: Any) -> dict[str, Any]:
    """The accepted attributes of a User as the platform reads them."""
    emails = attr(resource, "emails")
    email = _item_value(emails, wanted_type=None, primary=True)
    return {
        "userName": attr(resource, "userName"),
        "name.givenName": attr(resource, "name.givenName"),
        "name.familyName": attr(resource, "name.familyName"),
        "mobile": _item_value(attr(resource, "phoneNumbers"), wanted_type="mobile"),
        "email": email if email is not None else _item_value(emails, wanted_type="work"),
        "active": attr(resource, "active"),
        "externalId": attr(resource, "externalId"),
    }


def unaccepted_attributes(resource: Any) -> list[str]:
    """Everything in a User response outside the accepted-attribute profile.

    ``groups`` is tolerated (read-only, derived from Group resources, RFC 7643 §4.1.2) and
    so is ``primary`` on the one email and phone kept; extension objects, a second email,
    a non-mobile phone or any other attribute are reported.
    """
    if not isinstance(resource, dict):
        return ["<not an object>"]
    found = [k for k in resource if k.lower() not in _ALLOWED_TOP]
    name = attr(resource, "name")
    if isinstance(name, dict):
        found += [f"name.{k}" for k in name if k.lower() not in _ALLOWED_NAME]
    for plural in ("emails", "phoneNumbers"):
        items = attr(resource, plural)
        if not isinstance(items, list):
            continue
        if len(items) > 1:
            found.append(f"{plural} ({len(items)} values; only one is kept)")
        for item in items:
            keys = item.keys() if isinstance(item, dict) else ["<not an object>"]
            found += [f"{plural}.{k}" for k in keys if k.lower() not in _ALLOWED_ITEM]
            kind = attr(item, "type")
            if plural == "phoneNumbers" and str(kind).lower() != "mobile":
                found.append(f"phoneNumbers[type {kind!r}]")
    schemas = attr(resource, "schemas")
    if isinstance(schemas, list):
        found += [
            f"schemas:{s}" for s in schemas if isinstance(s, str) and s.lower() != USER.lower()
        ]
    return found
