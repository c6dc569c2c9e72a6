"""The full SCIM User representation (RFC 7643 §4.1, §3.1 ``meta``) of a staff account, as a
plain dict, for responses that select no attributes.

Why not scim2-models here: building a ``User`` and dumping it costs about as much CPU as the
rest of a read by id (email validation, then a per-attribute serializer). The writer is
generated from the table of kept attributes (``server.domain.user_attributes``), in the
order of scim2-models' ``User`` fields, so its output is
``scim_from_staff(...).model_dump(scim_ctx=...)``, key order included:
``tests/unit/test_user_wire.py`` checks the two against each other for generated accounts and
every kept attribute, and ``selected`` against its selection of ``attributes`` and
``excludedAttributes``. scim2-models still parses every request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from scim2_models import User

from server.domain.staff import StaffProfile
from server.domain.user_attributes import USER_ATTRIBUTES, Carrier, UserAttribute
from server.mapping.users import item_class, model_field

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from server.domain.staff import StaffUser

__all__ = [
    "LIST_RESPONSE_SCHEMA",
    "USER_SCHEMA",
    "list_payload",
    "scim_datetime",
    "selected",
    "user_payload",
]

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def scim_datetime(value: datetime) -> str:
    """xsd:dateTime as pydantic writes it: the instant's own date and time (in UTC, as read
    from either database), microseconds only when non-zero (as ``isoformat``), then ``Z``.
    Written from the fields in one printf-style format: ``isoformat`` would format the
    zone's offset too, only for it to be cut off."""
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % (  # noqa: UP031
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
    )
    if value.microsecond:
        return "%s.%06dZ" % (text, value.microsecond)  # noqa: UP031
    return text + "Z"


if TYPE_CHECKING:
    Groups: TypeAlias = Sequence[tuple[str, str, str]]
    #: One step of the writer: sets its attribute of the body (body, account, location, groups).
    Step: TypeAlias = Callable[[dict[str, Any], StaffUser, str, Groups], None]


def _simple(key: str, field: str) -> Step:
    get = StaffProfile.getter(field)

    def step(payload: dict[str, Any], staff: StaffUser, *_: Any) -> None:
        value = get(staff.profile)
        if value is not None:
            payload[key] = value

    return step


def _complex(key: str, group: list[UserAttribute]) -> Step:
    order = list(item_class(key).model_fields)
    ranked = sorted(group, key=lambda a: order.index(model_field(a.sub or "")))
    subs = [(a.sub, StaffProfile.getter(a.field)) for a in ranked]

    def step(payload: dict[str, Any], staff: StaffUser, *_: Any) -> None:
        value = {}
        for sub, get in subs:
            found = get(staff.profile)
            if found is not None:
                value[sub] = found
        if value:
            payload[key] = value

    return step


def _typed(key: str, attribute: UserAttribute) -> Step:
    get = StaffProfile.getter(attribute.field)
    kind, primary = attribute.element_type, attribute.primary

    def step(payload: dict[str, Any], staff: StaffUser, *_: Any) -> None:
        value = get(staff.profile)
        if value:
            element = {"value": value, "type": kind}
            if primary:
                element["primary"] = True
            payload[key] = [element]

    return step


def _write_meta(payload: dict[str, Any], staff: StaffUser, location: str, _: Any) -> None:
    created_at, updated_at = staff.created_at, staff.updated_at
    created = scim_datetime(created_at)
    # An account never changed since its creation has one instant (in one zone), written once.
    same = updated_at == created_at and updated_at.tzinfo is created_at.tzinfo
    modified = created if same else scim_datetime(updated_at)
    payload["meta"] = {
        "resourceType": "User",
        "created": created,
        "lastModified": modified,
        "location": location,
        "version": staff.etag,
    }


def _write_groups(payload: dict[str, Any], _: StaffUser, __: str, groups: Groups) -> None:
    if groups:
        payload["groups"] = [
            {"value": gid, "$ref": ref, "display": display, "type": "direct"}
            for gid, display, ref in groups
        ]


def _writer(attributes: tuple[UserAttribute, ...]) -> tuple[Step, ...]:
    """The steps writing a User body, in the order of scim2-models' ``User`` fields."""
    order = list(User.model_fields)
    by_top: dict[str, list[UserAttribute]] = {}
    for attribute in attributes:
        by_top.setdefault(attribute.scim, []).append(attribute)
    steps: list[tuple[int, Step]] = [
        (order.index("meta"), _write_meta),
        (order.index("groups"), _write_groups),
    ]
    for key, group in by_top.items():
        carrier = group[0].carrier
        if carrier is Carrier.SIMPLE:
            step = _simple(key, group[0].field)
        elif carrier is Carrier.SUB:
            step = _complex(key, group)
        else:
            step = _typed(key, group[0])
        steps.append((order.index(model_field(key)), step))
    return tuple(step for _, step in sorted(steps, key=lambda ranked: ranked[0]))


def user_payload(
    staff: StaffUser, *, location: str, groups: Groups = (), identifier: str | None = None
) -> dict[str, Any]:
    """The User as a response body; ``groups`` as (id, displayName, location);
    ``identifier``: ``str(staff.id)`` when the caller already wrote it (for its location)."""
    identifier = str(staff.id) if identifier is None else identifier
    payload: dict[str, Any] = {"schemas": [USER_SCHEMA], "id": identifier}
    for step in USER_ATTRIBUTES.derived(_writer):
        step(payload, staff, location, groups)
    return payload


# Returned whatever the selection (RFC 7643 §7 ``returned: always``).
_ALWAYS = frozenset({"schemas", "id"})


def _paths(names: Sequence[str]) -> dict[str, set[str] | None]:
    """Top-level name -> the named sub-attributes (None: the whole attribute), lower case; a
    name in another schema's URN (an extension this body never carries) names nothing."""
    paths: dict[str, set[str] | None] = {}
    prefix = USER_SCHEMA.lower() + ":"
    for name in names:
        lowered = name.lower().removeprefix(prefix)
        if lowered.startswith("urn:"):
            continue
        top, _, sub = lowered.partition(".")
        if not sub:
            paths[top] = None
        elif (subs := paths.setdefault(top, set())) is not None:
            subs.add(sub)
    return paths


def _pruned(value: Any, subs: set[str], *, named_stay: bool) -> Any:
    """A complex value, or each element of a multi-valued one, keeping the sub-attributes
    named in ``subs`` (``named_stay``) or the others; None when nothing is left."""
    if isinstance(value, list):
        pruned = (_pruned(item, subs, named_stay=named_stay) for item in value)
        return [element for element in pruned if element] or None
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if (k.lower() in subs) is named_stay} or None
    return value


def selected(
    payload: dict[str, Any],
    *,
    attributes: Sequence[str] | None = None,
    excluded: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A User body with only the ``attributes`` asked for, or without the ``excluded`` ones
    (RFC 7644 §3.9; names case-insensitive, with or without the core schema URN), as
    scim2-models selects them; ``schemas`` and ``id`` always stay."""
    if not attributes and not excluded:
        return payload
    paths = _paths(attributes or excluded or ())
    result: dict[str, Any] = {}
    for key, value in payload.items():
        lowered = key.lower()
        named = lowered in paths
        subs = paths.get(lowered)
        if lowered in _ALWAYS:
            kept = value
        elif attributes:
            if not named:
                continue
            kept = value if subs is None else _pruned(value, subs, named_stay=True)
        elif named and subs is None:
            continue
        else:
            kept = _pruned(value, subs, named_stay=False) if subs else value
        if kept is not None:
            result[key] = kept
    return result


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
