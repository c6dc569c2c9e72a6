"""SCIM Group <-> group profile, both directions, pure (RFC 7643 §4.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from scim2_models import Group, GroupMember, InvalidValueException, Meta

from server.domain.groups import GroupProfile

if TYPE_CHECKING:
    from collections.abc import Callable

    from server.domain.groups import GroupRecord

__all__ = ["profile_from_scim_group", "scim_from_group"]


def _member_id(member: GroupMember) -> UUID:
    try:
        return UUID(str(member.value))
    except ValueError:
        raise InvalidValueException(detail=f"no such user: {str(member.value)[:64]!r}") from None


def profile_from_scim_group(group: Group) -> GroupProfile:
    """Inbound: displayName, externalId and member ids; anything else is ignored."""
    members = tuple(_member_id(m) for m in group.members or () if m.value is not None)
    return GroupProfile(
        display_name=(group.display_name or "").strip(),
        external_id=group.external_id or None,
        member_ids=members,
    )


def scim_from_group(
    group: GroupRecord,
    *,
    location: str,
    user_location: Callable[[UUID], str],
    include_members: bool = True,
) -> Group:
    members: list[GroupMember] | None = None
    if include_members:
        members = [
            GroupMember(value=str(m), ref=user_location(m), type="User")
            for m in group.profile.member_ids
        ]
    return Group(
        id=str(group.id),
        external_id=group.profile.external_id,
        display_name=group.profile.display_name,
        members=members,
        meta=Meta(
            resource_type="Group",
            created=group.created_at,
            last_modified=group.updated_at,
            location=location,
            version=group.etag,
        ),
    )
