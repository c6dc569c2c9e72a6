"""SCIM User <-> staff profile, both directions, pure.

The platform keeps the attributes of ``server.domain.user_attributes`` (by default
``userName``, ``name.givenName``, ``name.familyName``, the mobile ``phoneNumbers`` value, the
primary (else work) ``emails`` value, ``active`` and ``externalId``). Inbound mapping reads
only those, so anything else a client sends is dropped without error; outbound mapping writes
only those, so nothing else can leak back.
"""

from __future__ import annotations

import functools
import re
import typing
from typing import TYPE_CHECKING, Any

from scim2_models import GroupMembership, Meta, User

from server.domain.staff import StaffProfile
from server.domain.user_attributes import USER_ATTRIBUTES, Carrier, UserAttribute, ValueKind

if TYPE_CHECKING:
    from collections.abc import Sequence

    from server.domain.staff import StaffUser

__all__ = ["item_class", "model_field", "profile_from_scim", "scim_from_staff"]


@functools.cache
def model_field(scim_name: str) -> str:
    """The scim2-models field name of an attribute name (``phoneNumbers`` -> ``phone_numbers``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", scim_name).lower()


def item_class(scim_name: str) -> Any:
    """The scim2-models class of a complex attribute (or of its elements): ``Name``, ``Email``."""
    hint = typing.get_type_hints(User)[model_field(scim_name)]
    while True:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if not args:
            return hint
        hint = args[0]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def _kind(item: Any) -> str:
    return str(getattr(item.type, "value", item.type) or "").lower()


def _pick(items: Sequence[Any] | None, *, wanted_type: str, primary_first: bool) -> Any:
    """The primary value (when ``primary_first``), else the first of ``wanted_type``, else
    nothing (RFC 7643 §2.4)."""
    if not items:
        return None
    if primary_first:
        for item in items:
            if item.primary and _text(item.value):
                return item.value
    for item in items:
        if _kind(item) == wanted_type and _text(item.value):
            return item.value
    return None


def _raw(user: Any, attribute: UserAttribute) -> Any:
    """The attribute's value in a validated User, as scim2-models holds it."""
    top = getattr(user, model_field(attribute.scim), None)
    if attribute.carrier is Carrier.SUB:
        assert attribute.sub is not None
        return None if top is None else getattr(top, model_field(attribute.sub), None)
    if attribute.carrier is Carrier.TYPED:
        assert attribute.element_type is not None
        return _pick(top, wanted_type=attribute.element_type, primary_first=attribute.primary)
    return top


def _kept(attribute: UserAttribute, raw: Any) -> Any:
    if attribute.kind is ValueKind.BOOLEAN:
        return True if raw is None else bool(raw)
    if attribute.required:
        return (raw or "").strip()
    return _text(raw)


def profile_from_scim(user: User[Any]) -> StaffProfile:
    """Inbound: the kept attributes of a validated SCIM User; everything else is ignored."""
    return StaffProfile.of({a.field: _kept(a, _raw(user, a)) for a in USER_ATTRIBUTES.attributes})


def _writers(attributes: tuple[UserAttribute, ...]) -> tuple[Any, ...]:
    """Per top-level attribute: (field name, [(attribute, sub field)], item class)."""
    by_top: dict[str, list[UserAttribute]] = {}
    for attribute in attributes:
        by_top.setdefault(attribute.scim, []).append(attribute)
    return tuple(
        (
            model_field(scim),
            group,
            None if group[0].carrier is Carrier.SIMPLE else item_class(scim),
        )
        for scim, group in by_top.items()
    )


def scim_from_staff(
    staff: StaffUser,
    *,
    location: str,
    groups: Sequence[tuple[str, str, str]] = (),
    model: type[User[Any]] = User,
) -> User[Any]:
    """Outbound: the staff account as a SCIM User carrying only the kept attributes, plus
    its (read-only) groups as (id, displayName, location). ``model`` may be a User with
    extensions (a PATCH applies to the model the server reads with)."""
    profile = staff.profile
    values: dict[str, Any] = {}
    for name, group, item_class in USER_ATTRIBUTES.derived(_writers):
        first = group[0]
        if first.carrier is Carrier.SIMPLE:
            values[name] = profile.value(first.field)
        elif first.carrier is Carrier.SUB:
            subs = {model_field(a.sub or ""): profile.value(a.field) for a in group}
            if any(v is not None for v in subs.values()):
                values[name] = item_class(**subs)
        elif value := profile.value(first.field):
            extra = {"primary": True} if first.primary else {}
            values[name] = [item_class(value=value, type=first.element_type, **extra)]
    return model(
        id=str(staff.id),
        **values,
        groups=[
            GroupMembership(value=gid, display=name, ref=ref, type="direct")
            for gid, name, ref in groups
        ]
        or None,
        meta=Meta(
            resource_type="User",
            created=staff.created_at,
            last_modified=staff.updated_at,
            location=location,
            version=staff.etag,
        ),
    )
