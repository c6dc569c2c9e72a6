"""SCIM User <-> staff profile, both directions, pure.

The platform keeps a fixed set of attributes (RFC 7643 §4.1 names): ``userName``,
``name.givenName``, ``name.familyName``, the mobile ``phoneNumbers`` value, the primary
(else work) ``emails`` value, ``active`` and ``externalId``. Inbound mapping reads only
those, so anything else a client sends is dropped without error; outbound mapping writes
only those, so nothing else can leak back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scim2_models import Email, GroupMembership, Meta, Name, PhoneNumber, User

from server.domain.staff import StaffProfile

if TYPE_CHECKING:
    from collections.abc import Sequence

    from server.domain.staff import StaffUser

__all__ = ["ACCEPTED_ATTRIBUTES", "profile_from_scim", "scim_from_staff"]

ACCEPTED_ATTRIBUTES = (
    "userName",
    "name.givenName",
    "name.familyName",
    'phoneNumbers[type eq "mobile"].value',
    "emails[primary eq true].value",
    "active",
    "externalId",
)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def _pick(items: Sequence[Any] | None, *, wanted_type: str) -> str | None:
    """The primary value, else the first of ``wanted_type``, else nothing (RFC 7643 §2.4)."""
    if not items:
        return None
    for item in items:
        if item.primary and _text(item.value):
            return _text(item.value)
    for item in items:
        kind = str(getattr(item.type, "value", item.type) or "").lower()
        if kind == wanted_type and _text(item.value):
            return _text(item.value)
    return None


def _mobile(items: Sequence[PhoneNumber] | None) -> str | None:
    for item in items or ():
        kind = str(getattr(item.type, "value", item.type) or "").lower()
        if kind == "mobile" and _text(item.value):
            return _text(item.value)
    return None


def profile_from_scim(user: User[Any]) -> StaffProfile:
    """Inbound: the accepted attributes of a validated SCIM User; everything else is ignored."""
    name = user.name
    return StaffProfile(
        user_name=(user.user_name or "").strip(),
        given_name=_text(name.given_name) if name else None,
        family_name=_text(name.family_name) if name else None,
        cell_phone=_mobile(user.phone_numbers),
        email=_pick(user.emails, wanted_type="work"),
        active=True if user.active is None else bool(user.active),
        external_id=_text(user.external_id),
    )


def scim_from_staff(
    staff: StaffUser,
    *,
    location: str,
    groups: Sequence[tuple[str, str, str]] = (),
    model: type[User[Any]] = User,
) -> User[Any]:
    """Outbound: the staff account as a SCIM User carrying only the accepted attributes, plus
    its (read-only) groups as (id, displayName, location). ``model`` may be a User with
    extensions (a PATCH applies to the model the server reads with)."""
    profile = staff.profile
    name = None
    if profile.given_name is not None or profile.family_name is not None:
        name = Name(given_name=profile.given_name, family_name=profile.family_name)
    return model(
        id=str(staff.id),
        external_id=profile.external_id,
        user_name=profile.user_name,
        name=name,
        active=profile.active,
        emails=[Email(value=profile.email, type="work", primary=True)] if profile.email else None,
        phone_numbers=(
            [PhoneNumber(value=profile.cell_phone, type="mobile")] if profile.cell_phone else None
        ),
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
