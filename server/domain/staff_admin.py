"""What practice administrators do with staff accounts: access levels, locations, and the
fields they may edit. Fields an identity provider provisioned stay read-only here."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from server.domain.clock import utcnow
from server.domain.errors import DomainError, InvalidValue, NotFound, ReadOnlyField
from server.domain.practices import AuditEntry
from server.domain.records import Location
from server.domain.staff import AccessLevel, StaffUser
from server.domain.text import check_storable
from server.domain.user_attributes import idp_owned_fields

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from server.domain.ports import Store

__all__ = ["EDITABLE", "Location", "RoleRefused", "StaffAdminService", "StaffView"]

#: What an administrator may send when editing a staff account.
EDITABLE = frozenset(
    {
        "given_name",
        "family_name",
        "user_name",
        "cell_phone",
        "email",
        "access_level",
        "location_ids",
    }
)


@dataclass(frozen=True, slots=True)
class StaffView:
    user: StaffUser
    location_ids: tuple[UUID, ...]


def _as_given(value: str) -> str:
    return value


_PROFILE_FIELDS = ("given_name", "family_name", "user_name", "cell_phone", "email")


class RoleRefused(DomainError):
    """A role change that would break a rule (the last administrator, say)."""


def _changed_fields(before: StaffView, after: StaffUser, locations: tuple[UUID, ...]) -> list[str]:
    """The names of the fields an edit really changed, for its audit entry."""
    changed = [
        f for f in _PROFILE_FIELDS if getattr(before.user.profile, f) != getattr(after.profile, f)
    ]
    if after.access_level != before.user.access_level:
        changed.append("access_level")
    if set(locations) != set(before.location_ids):
        changed.append("locations")
    return changed


class StaffAdminService:
    """``normalize_email`` turns an address into the form the SCIM edge stores (raising
    ``ValueError`` when it is not one), so an edit here never stores what SCIM cannot send."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = utcnow,
        normalize_email: Callable[[str], str] = _as_given,
    ) -> None:
        self._store = store
        self._now = clock
        self._normalize_email = normalize_email

    async def list_staff(self, practice_id: UUID) -> list[StaffView]:
        users = await self._store.staff.list_all(practice_id)
        assigned = await self._store.locations.assigned(practice_id, [u.id for u in users])
        return [StaffView(u, assigned.get(u.id, ())) for u in users]

    async def get_staff(self, practice_id: UUID, staff_id: UUID) -> StaffView:
        user = await self._store.staff.get(practice_id, staff_id)
        if user is None:
            raise NotFound(f"no staff member {staff_id}")
        assigned = await self._store.locations.assigned(practice_id, [staff_id])
        return StaffView(user, assigned.get(staff_id, ()))

    async def update_staff(
        self, practice_id: UUID, staff_id: UUID, edit: Mapping[str, Any], *, actor: str
    ) -> StaffView:
        unknown = set(edit) - EDITABLE
        if unknown:
            raise InvalidValue(f"cannot edit {', '.join(sorted(unknown))}")
        async with self._store.transaction():
            view = await self.get_staff(practice_id, staff_id)
            user = view.user
            locked = [f for f in idp_owned_fields() if f in edit and user.scim_provisioned]
            if locked:
                raise ReadOnlyField(
                    f"{', '.join(locked)} of this account are managed by the practice's "
                    "identity provider and can only be changed there"
                )
            profile_changes = {k: edit[k] for k in _PROFILE_FIELDS if k in edit}
            for label, value in profile_changes.items():
                check_storable(label, value if isinstance(value, str) else None)
            if profile_changes.get("email") is not None:
                try:
                    profile_changes["email"] = self._normalize_email(str(profile_changes["email"]))
                except ValueError as error:
                    raise InvalidValue(str(error)) from None
            updated = user
            if profile_changes:
                updated = replace(
                    updated,
                    profile=replace(user.profile, **profile_changes),
                    version=user.version + 1,
                    updated_at=self._now(),
                )
            if "access_level" in edit:
                try:
                    level = AccessLevel(edit["access_level"])
                except ValueError:
                    raise InvalidValue(f"unknown access level {edit['access_level']!r}") from None
                updated = replace(updated, access_level=level)
            if updated != user:
                await self._store.staff.update(updated, expected_version=user.version)
            locations = view.location_ids
            if "location_ids" in edit:
                locations = await self._assign(practice_id, staff_id, edit["location_ids"])
            changed = _changed_fields(view, updated, locations)
            if changed:  # an edit that changed nothing is no event
                await self._store.audit.record(
                    AuditEntry(
                        practice_id,
                        actor,
                        "staff.updated",
                        f"staff={staff_id} fields={','.join(changed)}",
                        self._now(),
                    )
                )
        return StaffView(updated, locations)

    async def _assign(self, practice_id: UUID, staff_id: UUID, raw: Any) -> tuple[UUID, ...]:
        if not isinstance(raw, list):
            raise InvalidValue("location_ids must be a list of location ids")
        try:
            wanted = tuple(dict.fromkeys(UUID(str(item)) for item in raw))
        except ValueError:
            raise InvalidValue("location_ids must be location ids") from None
        known = {loc.id for loc in await self._store.locations.list(practice_id)}
        missing = [str(w) for w in wanted if w not in known]
        if missing:
            raise InvalidValue(f"no such location in this practice: {', '.join(missing[:5])}")
        await self._store.locations.assign(practice_id, staff_id, wanted)
        return wanted

    async def create_location(self, practice_id: UUID, name: str, *, actor: str) -> Location:
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidValue("a location name is 1 to 200 characters")
        if not name.isprintable():
            # Control characters (NUL among them, which PostgreSQL text refuses) are no name.
            raise InvalidValue("a location name may not contain control characters")
        location = Location(uuid4(), practice_id, name, self._now())
        async with self._store.transaction():
            await self._store.locations.add(location)
            await self._store.audit.record(
                AuditEntry(practice_id, actor, "location.created", f"name={name}", self._now())
            )
        return location

    async def list_locations(self, practice_id: UUID) -> list[Location]:
        return await self._store.locations.list(practice_id)

    async def set_administrator(
        self, practice_id: UUID, staff_id: UUID, *, admin: bool, actor: str
    ) -> StaffUser:
        """Give or remove the practice administrator role. The practice always keeps one
        active administrator: role changes of a practice hold its administrators' rows, so
        two administrators removing each other at once cannot both succeed."""
        async with self._store.transaction():
            admins = await self._store.staff.lock_administrators(practice_id)
            user = await self._store.staff.get(practice_id, staff_id)
            if user is None:
                raise NotFound(f"no staff member {staff_id}")
            if user.is_practice_admin == admin:
                return user
            if admin and (user.scim_deleted or not user.profile.active):
                raise RoleRefused("A deactivated or deleted account cannot be an administrator.")
            others = [a for a in admins if a.id != staff_id and a.profile.active]
            if not admin and not others:
                raise RoleRefused(
                    "This is the practice's last administrator. Make someone else an "
                    "administrator first."
                )
            updated = replace(
                user, is_practice_admin=admin, version=user.version + 1, updated_at=self._now()
            )
            await self._store.staff.update(updated, expected_version=user.version)
            action = "role.admin_granted" if admin else "role.admin_revoked"
            await self._store.audit.record(
                AuditEntry(practice_id, actor, action, f"staff={staff_id}", self._now())
            )
        return updated
