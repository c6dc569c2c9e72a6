"""The full SCIM User representation (RFC 7643 §4.1, §3.1 ``meta``) of a staff account, as a
plain dict, for responses that select no attributes.

Why not scim2-models here: building a ``User`` and dumping it costs about a millisecond of
CPU (email validation, then a per-attribute serializer), most of a read by id. The output
of :func:`user_payload` is the output of ``scim_from_staff(...).model_dump(scim_ctx=...)``,
key order included: ``tests/unit/test_user_wire.py`` checks the two against each other for
generated accounts. scim2-models still parses every request and serves every response
that names ``attributes`` or ``excludedAttributes``.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from server.domain.staff import StaffUser

__all__ = ["LIST_RESPONSE_SCHEMA", "USER_SCHEMA", "list_payload", "scim_datetime", "user_payload"]

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def scim_datetime(value: datetime) -> str:
    """xsd:dateTime in UTC, as pydantic writes it: microseconds only when non-zero (which is
    what ``isoformat`` does; strftime cost twice as much). An instant in UTC, as read from
    either database, keeps its own ``isoformat`` with the ``+00:00`` cut (a copy without
    its zone cost 0.7 µs more)."""
    if value.tzinfo is UTC:
        return value.isoformat()[:-6] + "Z"
    return value.replace(tzinfo=None).isoformat() + "Z"


def user_payload(
    staff: StaffUser, *, location: str, groups: Sequence[tuple[str, str, str]] = ()
) -> dict[str, Any]:
    """The User as a response body; ``groups`` as (id, displayName, location)."""
    profile = staff.profile
    payload: dict[str, Any] = {"schemas": [USER_SCHEMA], "id": str(staff.id)}
    if profile.external_id is not None:
        payload["externalId"] = profile.external_id
    payload["meta"] = {
        "resourceType": "User",
        "created": scim_datetime(staff.created_at),
        "lastModified": scim_datetime(staff.updated_at),
        "location": location,
        "version": staff.etag,
    }
    payload["userName"] = profile.user_name
    name: dict[str, str] = {}
    if profile.family_name is not None:
        name["familyName"] = profile.family_name
    if profile.given_name is not None:
        name["givenName"] = profile.given_name
    if name:
        payload["name"] = name
    payload["active"] = profile.active
    if profile.email:
        payload["emails"] = [{"value": profile.email, "type": "work", "primary": True}]
    if profile.cell_phone:
        payload["phoneNumbers"] = [{"value": profile.cell_phone, "type": "mobile"}]
    if groups:
        payload["groups"] = [
            {"value": gid, "$ref": ref, "display": display, "type": "direct"}
            for gid, display, ref in groups
        ]
    return payload


def list_payload(
    *, total: int, start_index: int, resources: list[dict[str, Any]]
) -> dict[str, Any]:
    """A ListResponse (RFC 7644 §3.4.2) around resources that are already response bodies:
    what ``ListResponse(...).model_dump(scim_ctx=SEARCH_RESPONSE)`` writes for the envelope
    (built and dumped, that was a seventh of a filter lookup's CPU), key order included."""
    return {
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }
