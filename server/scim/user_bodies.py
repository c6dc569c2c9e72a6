"""User resources and response bodies with their groups, for every ``/Users`` answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from scim2_models import User

from server.mapping.user_wire import selected, user_payload
from server.mapping.users import scim_from_staff
from server.scim.resources import location

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scim2_models import ResponseParameters

    from server.domain.staff import StaffUser
    from server.services import Services

__all__ = ["ANY_USER", "Memberships", "user_bodies", "user_resources"]

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


def user_bodies(
    services: Services,
    practice: UUID,
    page: Sequence[tuple[StaffUser, list[tuple[UUID, str]]]],
    parameters: ResponseParameters[Any] | None,
) -> list[dict[str, Any]]:
    """Users with their groups as (id, displayName), as response bodies: every answer of
    ``/Users`` that carries users, a read by id or a page of a list, is written here by the
    writer generated from the table of kept attributes (``server.mapping.user_wire``), with
    the attributes ``parameters`` select (RFC 7644 §3.9)."""
    base = services.settings.scim_base_url(str(practice))
    users_at, groups_at = f"{base}/Users/", f"{base}/Groups/"
    attributes = excluded = None
    if parameters is not None:
        attributes, excluded = parameters.attributes, parameters.excluded_attributes
    selecting = bool(attributes or excluded)
    bodies = []
    for user, groups in page:
        # Each id written once, for the body and for its location.
        memberships: list[tuple[str, str, str]] = []
        for group_id, name in groups:
            identifier = str(group_id)
            memberships.append((identifier, name, groups_at + identifier))
        identifier = str(user.id)
        body = user_payload(
            user, location=users_at + identifier, groups=memberships, identifier=identifier
        )
        bodies.append(
            selected(body, attributes=attributes, excluded=excluded) if selecting else body
        )
    return bodies
