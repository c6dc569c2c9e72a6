"""Groups an identity provider pushes. They are recorded so a practice can see them; they
grant nothing (access is assigned by a practice administrator), and members must be staff
of the same practice that SCIM can see."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from server.domain.clock import utcnow
from server.domain.errors import InvalidValue, NotFound, PreconditionFailed
from server.domain.records import GroupProfile, GroupRecord
from server.domain.text import check_storable

if TYPE_CHECKING:
    from collections.abc import Callable, Collection
    from datetime import datetime

    from server.domain.ports import Store
    from server.domain.query import ResourceQuery

__all__ = ["GroupProfile", "GroupRecord", "GroupService", "parse_group_id"]

MAX_DISPLAY_NAME = 256


def parse_group_id(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"no group {raw[:64]!r}") from None


def _checked(profile: GroupProfile) -> GroupProfile:
    name = profile.display_name.strip()
    if not name:
        raise InvalidValue("displayName must not be empty")
    if len(name) > MAX_DISPLAY_NAME:
        raise InvalidValue(f"displayName is longer than {MAX_DISPLAY_NAME} characters")
    check_storable("displayName", name)
    check_storable("externalId", profile.external_id)
    members = tuple(dict.fromkeys(profile.member_ids))  # one membership per user, in order
    return replace(profile, display_name=name, member_ids=members)


class GroupService:
    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._now = clock

    async def _check_members(self, practice_id: UUID, member_ids: Collection[UUID]) -> None:
        if not member_ids:
            return
        known = await self._store.staff.visible_ids(practice_id, member_ids)
        unknown = [str(m) for m in member_ids if m not in known]
        if unknown:
            raise InvalidValue(f"no such user in this practice: {', '.join(unknown[:5])}")

    async def create(self, practice_id: UUID, profile: GroupProfile) -> GroupRecord:
        profile = _checked(profile)
        now = self._now()
        group = GroupRecord(uuid4(), practice_id, profile, 1, now, now)
        async with self._store.transaction():
            await self._check_members(practice_id, profile.member_ids)
            await self._store.groups.add(group)
        return group

    async def get(
        self, practice_id: UUID, group_id: UUID, *, with_members: bool = True
    ) -> GroupRecord:
        group = await self._store.groups.get(practice_id, group_id, with_members=with_members)
        if group is None:
            raise NotFound(f"no group {group_id}")
        return group

    async def search(
        self, practice_id: UUID, query: ResourceQuery, *, with_members: bool = True
    ) -> tuple[int, list[GroupRecord]]:
        return await self._store.groups.search(practice_id, query, with_members=with_members)

    async def modify(
        self,
        practice_id: UUID,
        group_id: UUID,
        change: Callable[[GroupRecord], GroupProfile],
        *,
        expected_versions: Collection[int] | None = None,
    ) -> GroupRecord:
        """Apply ``change`` atomically; members are checked before anything is written.

        The group is read locked, so no writer comes between the read and the write: a
        write without ``If-Match`` is never refused for another writer's sake, and members
        added concurrently are all kept."""
        async with self._store.transaction():
            current = await self._store.groups.get(
                practice_id, group_id, with_members=True, lock=True
            )
            if current is None:
                raise NotFound(f"no group {group_id}")
            if expected_versions is not None and current.version not in expected_versions:
                raise PreconditionFailed(f"group {group_id} is at version {current.version}")
            profile = _checked(change(current))
            if profile == current.profile:
                return current
            added = set(profile.member_ids) - set(current.profile.member_ids)
            await self._check_members(practice_id, added)
            updated = replace(
                current, profile=profile, version=current.version + 1, updated_at=self._now()
            )
            return await self._store.groups.update(updated, expected_version=current.version)

    async def delete(
        self, practice_id: UUID, group_id: UUID, *, expected_versions: Collection[int] | None = None
    ) -> None:
        async with self._store.transaction():
            current = await self.get(practice_id, group_id, with_members=False)
            if expected_versions is not None and current.version not in expected_versions:
                raise PreconditionFailed(f"group {group_id} is at version {current.version}")
            await self._store.groups.delete(practice_id, group_id)
