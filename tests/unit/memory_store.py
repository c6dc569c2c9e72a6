"""An in-memory ``Store`` for fast unit tests of the services.

It keeps the rules the databases keep, as the databases keep them: userName unique per
practice case-insensitively (``text_key``) until SCIM deletes the account, email unique per
practice, a write applied only to the version it read (``WriteConflict``), filters as
``server.domain.query.matches`` evaluates them, pages ordered as ``order_by`` orders them
(``created_at``, then ``id``, last), and a transaction that leaves nothing behind when it
fails. The tests on both real databases stay; this one lets a service's rules be tested in
milliseconds.

It holds the repositories the provisioning service uses (staff, group membership, sessions,
SSO configuration); the others are absent, so a service reaching for one fails loudly.
"""

from __future__ import annotations

import copy
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from server.domain.errors import UniquenessConflict, WriteConflict
from server.domain.query import FIELD_KINDS, FieldKind, field_value, matches
from server.domain.text import text_key

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Collection
    from uuid import UUID

    from server.domain.ports import Store
    from server.domain.practices import AuditEntry
    from server.domain.query import ResourceQuery
    from server.domain.records import SsoConfig
    from server.domain.staff import StaffUser

__all__ = ["MemoryStore", "memory_store"]


@dataclass
class _Data:
    staff: dict[tuple[UUID, UUID], StaffUser] = field(default_factory=dict)
    members: dict[UUID, set[UUID]] = field(default_factory=dict)  # staff id -> group ids
    sessions: dict[tuple[UUID, UUID], int] = field(default_factory=dict)
    sso: dict[UUID, SsoConfig] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)


def _keys(user: StaffUser) -> tuple[str | None, str | None]:
    """(userName key, email key) as the unique indexes see them."""
    profile = user.profile
    name = None if user.scim_deleted else text_key(profile.user_name)
    return name, None if profile.email is None else text_key(profile.email)


class MemoryStaff:
    def __init__(self, data: _Data) -> None:
        self._data = data

    def _check_unique(self, user: StaffUser) -> None:
        name, email = _keys(user)
        for other in self._data.staff.values():
            if other.practice_id != user.practice_id or other.id == user.id:
                continue
            other_name, other_email = _keys(other)
            if email is not None and email == other_email:
                raise UniquenessConflict(f"email {user.profile.email!r} is already in use")
            if name is not None and name == other_name:
                msg = f"userName {user.profile.user_name!r} is already in use"
                raise UniquenessConflict(msg)

    async def add(
        self,
        user: StaffUser,
        *,
        password_hash: str | None = None,
        api_key_hash: str | None = None,
        audit: AuditEntry | None = None,
    ) -> None:
        self._check_unique(user)
        self._data.staff[user.practice_id, user.id] = user
        if audit is not None:
            self._data.audit.append(audit)

    async def get(self, practice_id: UUID, user_id: UUID) -> StaffUser | None:
        return self._data.staff.get((practice_id, user_id))

    async def get_with_groups(
        self, practice_id: UUID, user_id: UUID, *, lock: bool = False
    ) -> tuple[StaffUser, list[tuple[UUID, str]]] | None:
        user = self._data.staff.get((practice_id, user_id))
        if user is None:
            return None
        groups = sorted(self._data.members.get(user_id, set()))
        return user, [(group_id, str(group_id)) for group_id in groups]

    async def list_scim(
        self, practice_id: UUID, query: ResourceQuery
    ) -> tuple[int, list[StaffUser]]:
        found = [
            user
            for (practice, _), user in self._data.staff.items()
            if practice == practice_id
            and user.scim_provisioned
            and not user.scim_deleted
            and matches(query.predicate, user)
        ]
        found.sort(key=lambda user: (user.created_at, str(user.id)))
        if query.sort_field is not None:
            kind = FIELD_KINDS[query.sort_field]

            def key(user: StaffUser) -> Any:
                value = field_value(user, query.sort_field or "")
                if value is not None and kind is FieldKind.TEXT:
                    value = text_key(str(value))
                return value

            present = [user for user in found if key(user) is not None]
            present.sort(key=key, reverse=query.descending)
            found = present + [user for user in found if key(user) is None]
        return len(found), found[query.offset : query.offset + query.limit]

    async def list_scim_with_groups(
        self, practice_id: UUID, query: ResourceQuery
    ) -> tuple[int, list[tuple[StaffUser, list[tuple[UUID, str]]]]]:
        total, page = await self.list_scim(practice_id, query)
        groups = self._data.members
        return total, [
            (user, [(g, str(g)) for g in sorted(groups.get(user.id, set()))]) for user in page
        ]

    async def update(
        self, user: StaffUser, *, expected_version: int, audit: AuditEntry | None = None
    ) -> StaffUser:
        stored = self._data.staff.get((user.practice_id, user.id))
        if stored is None or stored.version != expected_version:
            msg = f"staff user {user.id} changed since version {expected_version}"
            raise WriteConflict(msg)
        self._check_unique(user)
        self._data.staff[user.practice_id, user.id] = user
        if audit is not None:
            self._data.audit.append(audit)
        return user


class MemoryGroups:
    def __init__(self, data: _Data) -> None:
        self._data = data

    def join(self, user_id: UUID, group_id: UUID) -> None:
        """A membership, as a group write would leave it (for tests)."""
        self._data.members.setdefault(user_id, set()).add(group_id)

    async def of_users(
        self, practice_id: UUID, user_ids: Collection[UUID]
    ) -> dict[UUID, list[tuple[UUID, str]]]:
        return {
            user_id: [(g, str(g)) for g in sorted(self._data.members.get(user_id, set()))]
            for user_id in user_ids
        }

    async def remove_member(self, practice_id: UUID, user_id: UUID) -> None:
        self._data.members.pop(user_id, None)


class MemorySessions:
    def __init__(self, data: _Data) -> None:
        self._data = data

    def open(self, practice_id: UUID, staff_id: UUID) -> None:
        """A signed-in session of the account (for tests)."""
        key = (practice_id, staff_id)
        self._data.sessions[key] = self._data.sessions.get(key, 0) + 1

    def count(self, practice_id: UUID, staff_id: UUID) -> int:
        return self._data.sessions.get((practice_id, staff_id), 0)

    async def revoke_for_user(self, practice_id: UUID, staff_id: UUID) -> int:
        return self._data.sessions.pop((practice_id, staff_id), 0)


class MemorySsoConfigs:
    def __init__(self, data: _Data) -> None:
        self._data = data

    async def get(self, practice_id: UUID) -> SsoConfig | None:
        return self._data.sso.get(practice_id)

    async def save(self, config: SsoConfig) -> None:
        self._data.sso[config.practice_id] = config


class MemoryAudit:
    """The audit log: entries kept in the order they were written."""

    def __init__(self, data: _Data) -> None:
        self._data = data

    async def record(self, entry: AuditEntry) -> None:
        self._data.audit.append(entry)

    @property
    def entries(self) -> list[AuditEntry]:
        return list(self._data.audit)


class MemoryStore:
    def __init__(self) -> None:
        self._data = _Data()
        self.staff = MemoryStaff(self._data)
        self.groups = MemoryGroups(self._data)
        self.sessions = MemorySessions(self._data)
        self.sso_configs = MemorySsoConfigs(self._data)
        self.audit = MemoryAudit(self._data)
        self._depth = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """All or nothing: a failure inside restores what was there before it began."""
        if self._depth:
            yield  # joins the open transaction, as ``PiccoloStore.transaction`` does
            return
        before = copy.deepcopy(self._data)
        self._depth += 1
        try:
            yield
        except BaseException:
            self._restore(before)
            raise
        finally:
            self._depth -= 1

    def _restore(self, before: _Data) -> None:
        self._data.staff, self._data.members = before.staff, before.members
        self._data.sessions, self._data.sso = before.sessions, before.sso
        self._data.audit = before.audit

    async def ping(self) -> None:
        return None


def memory_store() -> tuple[MemoryStore, Store]:
    """The store, and the same object as the services' ``Store`` port: it holds only the
    repositories the services under test use (see the module's docstring)."""
    store = MemoryStore()
    return store, cast("Store", store)
