"""User resources and response bodies with their groups, for every ``/Users`` answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from scim2_models import User

from server.mapping.user_wire import user_payload
from server.mapping.users import scim_from_staff
from server.scim.resources import location

if TYPE_CHECKING:
    from server.domain.staff import StaffUser
    from server.services import Services

__all__ = ["ANY_USER", "Memberships", "user_payloads", "user_resources"]

ANY_USER = User[Any]  # parametrised once, not per request


Memberships = dict[UUID, list[tuple[UUID, str]]]  # user id -> its groups' (id, displayName)


async def _memberships(
    services: Services, practice: UUID, users: list[StaffUser], known: Memberships | None
) -> dict[UUID, list[tuple[str, str, str]]]:
    """Each user's groups as (id, displayName, location): one query for the whole page,
    none when they were read with the user."""
    found = (
        known
        if known is not None
        else await services.store.groups.of_users(practice, [u.id for u in users])
    )
    return {
        uid: [(str(gid), name, location(services, practice, "Groups", gid)) for gid, name in rows]
        for uid, rows in found.items()
    }


async def user_resources(
    services: Services, practice: UUID, users: list[StaffUser], known: Memberships | None = None
) -> list[User[Any]]:
    """Users as SCIM resources, each with its groups."""
    groups = await _memberships(services, practice, users, known)
    return [
        scim_from_staff(
            user, location=location(services, practice, "Users", user.id), groups=groups[user.id]
        )
        for user in users
    ]


async def user_payloads(
    services: Services, practice: UUID, users: list[StaffUser], known: Memberships | None = None
) -> list[dict[str, Any]]:
    """The same, as response bodies with every attribute (see server.mapping.user_wire)."""
    groups = await _memberships(services, practice, users, known)
    return [
        user_payload(
            user, location=location(services, practice, "Users", user.id), groups=groups[user.id]
        )
        for user in users
    ]
