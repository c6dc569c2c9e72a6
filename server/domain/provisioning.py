"""Provisioning staff accounts from an identity provider: the platform's rules, no protocol.

Rules kept here so that no request form can skip them: a provisioned account starts at
the lowest access level with no password; provisioning never changes access, locations or
sign-in links; a deleted account is kept, deactivated, for the practice's records.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from server.domain.account_keys import UserNameKey
from server.domain.acting import IDP_ACTOR, acting_credential
from server.domain.clock import utcnow
from server.domain.errors import (
    InvalidValue,
    NotFound,
    PreconditionFailed,
    UniquenessConflict,
    WriteConflict,
)
from server.domain.practices import AuditEntry
from server.domain.sso import link_for
from server.domain.staff import AccessLevel, StaffProfile, StaffUser
from server.domain.text import check_storable
from server.domain.user_attributes import USER_ATTRIBUTES, Carrier, UserAttribute, ValueKind

if TYPE_CHECKING:
    from collections.abc import Callable, Collection
    from datetime import datetime

    from server.domain.ports import Store
    from server.domain.query import ResourceQuery

__all__ = ["ProvisioningService", "parse_user_id"]

MAX_USER_NAME = 256


def parse_user_id(raw: str) -> UUID:
    """A user id from a URL; anything that is not one of ours is simply not found."""
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"no user {raw[:64]!r}") from None


def _checked(profile: StaffProfile) -> StaffProfile:
    user_name = profile.user_name.strip()
    if not user_name:
        raise InvalidValue("userName must not be empty")
    if len(user_name) > MAX_USER_NAME:
        raise InvalidValue(f"userName is longer than {MAX_USER_NAME} characters")
    check_storable("userName", user_name)
    for attribute in USER_ATTRIBUTES.attributes:
        if attribute.kind is ValueKind.BOOLEAN or attribute.required:
            continue
        value, limit = profile.value(attribute.field), attribute.max_length
        label = attribute.path if attribute.carrier is Carrier.SUB else attribute.scim
        if value is not None and limit is not None and len(value) > limit:
            raise InvalidValue(f"{label} is longer than {limit} characters")
        check_storable(label, value)
    return replace(profile, user_name=user_name)


class ProvisioningService:
    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._now = clock

    async def create(self, practice_id: UUID, profile: StaffProfile) -> StaffUser:
        now = self._now()
        profile = _checked(profile)
        # Linked to the practice's IdP identity at once: the first SSO sign-in needs no linking.
        sso_issuer, sso_subject = link_for(await self._store.sso_configs.get(practice_id), profile)
        user = StaffUser(
            id=uuid4(),
            practice_id=practice_id,
            profile=profile,
            access_level=AccessLevel.ADMIN_STAFF,
            is_practice_admin=False,
            scim_provisioned=True,
            scim_deleted=False,
            sso_issuer=sso_issuer,
            sso_subject=sso_subject,
            has_password=False,
            version=1,
            created_at=now,
            updated_at=now,
        )
        entry = self._entry(practice_id, "scim.user_created", f"staff={user.id}")
        try:
            await self._store.staff.add(user, audit=entry)
        except UniquenessConflict as conflict:
            raise UniquenessConflict(f"{conflict.detail} in this practice") from None
        return user

    async def get(self, practice_id: UUID, user_id: UUID) -> StaffUser:
        return _visible(await self._store.staff.get(practice_id, user_id), user_id)

    async def get_with_groups(
        self, practice_id: UUID, user_id: UUID
    ) -> tuple[StaffUser, list[tuple[UUID, str]]]:
        """The account and its groups as (id, displayName), read together."""
        found = await self._store.staff.get_with_groups(practice_id, user_id)
        if found is None:
            raise NotFound(f"no user {user_id}")
        return _visible(found[0], user_id), found[1]

    async def find_with_groups(
        self, practice_id: UUID, user_name: str
    ) -> list[tuple[StaffUser, list[tuple[UUID, str]]]]:
        """The accounts a search lists for ``userName eq user_name`` (one at most: the key
        is unique in a practice), each with its groups as (id, displayName)."""
        found = await self._store.staff.find_with_groups(practice_id, UserNameKey.of(user_name))
        return [] if found is None else [found]

    async def search(self, practice_id: UUID, query: ResourceQuery) -> tuple[int, list[StaffUser]]:
        return await self._store.staff.list_scim(practice_id, query)

    async def search_with_groups(
        self, practice_id: UUID, query: ResourceQuery
    ) -> tuple[int, list[tuple[StaffUser, list[tuple[UUID, str]]]]]:
        """A page of accounts, each with its groups as (id, displayName)."""
        return await self._store.staff.list_scim_with_groups(practice_id, query)

    async def modify(
        self,
        practice_id: UUID,
        user_id: UUID,
        change: Callable[[StaffUser], StaffProfile],
        *,
        expected_versions: Collection[int] | None = None,
    ) -> tuple[StaffUser, list[tuple[UUID, str]]]:
        """Apply ``change`` (a pure function of the current account) atomically; the account
        as written and its groups, read with it.

        ``expected_versions`` carries an ``If-Match`` precondition: 412 when the account is at
        another version, or moves on before the write. A write without one is never refused
        for another writer's sake. It is made first as one UPDATE guarded by the version it
        read (nearly every write is uncontended); if another writer came first, the change
        runs again on the newer version inside a transaction that holds the account's lock,
        where no writer can come between the read and the write. Waiting for that lock is
        bounded by the database timeout (a 503, never a 412).
        """
        if expected_versions is not None:
            return await self._modify_once(practice_id, user_id, change, expected_versions)
        try:
            return await self._modify_once(practice_id, user_id, change, None)
        except WriteConflict:
            pass  # another writer came first
        async with self._store.transaction():
            return await self._modify_once(practice_id, user_id, change, None, lock=True)

    async def _modify_once(
        self,
        practice_id: UUID,
        user_id: UUID,
        change: Callable[[StaffUser], StaffProfile],
        expected_versions: Collection[int] | None,
        *,
        lock: bool = False,
    ) -> tuple[StaffUser, list[tuple[UUID, str]]]:
        # Without ``lock``, no transaction around the read: the UPDATE only applies to the
        # version read (else WriteConflict), as it would in one.
        found = await self._store.staff.get_with_groups(practice_id, user_id, lock=lock)
        if found is None:
            raise NotFound(f"no user {user_id}")
        current, groups = _visible(found[0], user_id), found[1]
        if expected_versions is not None and current.version not in expected_versions:
            raise PreconditionFailed(f"user {user_id} is at version {current.version}")
        profile = _checked(change(current))
        if profile == current.profile:
            return current, groups
        updated = replace(
            current, profile=profile, version=current.version + 1, updated_at=self._now()
        )
        # The audit entry is written with the change; a deactivation also ends the account's
        # sessions in the same transaction (the locked one, when there is one), so sign-in is
        # blocked at once.
        entry = self._entry(practice_id, *_change_entry(current.profile, profile, user_id))
        deactivated = current.profile.active and not profile.active
        async with self._store.transaction() if deactivated else nullcontext():
            written = await self._store.staff.update(
                updated, expected_version=current.version, audit=entry
            )
            if deactivated:
                await self._store.sessions.revoke_for_user(practice_id, user_id)
        return written, groups

    async def delete(
        self, practice_id: UUID, user_id: UUID, *, expected_versions: Collection[int] | None = None
    ) -> None:
        """RFC 7644 §3.6 for SCIM; the account itself stays, deactivated, for the records."""
        async with self._store.transaction():
            # Locked: a PATCH that commits between this read and the write cannot make a
            # DELETE without If-Match fail.
            found = await self._store.staff.get_with_groups(practice_id, user_id, lock=True)
            current = _visible(None if found is None else found[0], user_id)
            if expected_versions is not None and current.version not in expected_versions:
                raise PreconditionFailed(f"user {user_id} is at version {current.version}")
            deleted = replace(
                current,
                profile=replace(current.profile, active=False),
                scim_deleted=True,
                version=current.version + 1,
                updated_at=self._now(),
            )
            await self._store.staff.update(deleted, expected_version=current.version)
            await self._store.groups.remove_member(practice_id, user_id)
            await self._store.sessions.revoke_for_user(practice_id, user_id)
            await self._audit(practice_id, "scim.user_deleted", f"staff={user_id}")

    async def _audit(self, practice_id: UUID, action: str, detail: str) -> None:
        await self._store.audit.record(self._entry(practice_id, action, detail))

    def _entry(self, practice_id: UUID, action: str, detail: str) -> AuditEntry:
        """An identity provider's change for the practice's audit log, by the credential the
        request was accepted with (named when it was checked: no lookup, never a secret)."""
        credential = acting_credential.get()
        actor = IDP_ACTOR if credential is None else credential.actor
        return AuditEntry(practice_id, actor, action, detail, self._now())


def _audited_fields(attributes: tuple[UserAttribute, ...]) -> tuple[str, ...]:
    """Every kept attribute but ``active``, whose change is the audit action itself."""
    return tuple(a.field for a in attributes if a.field != "active")


def _change_entry(before: StaffProfile, after: StaffProfile, user_id: UUID) -> tuple[str, str]:
    """The audit action and detail of a change: (de)activation when ``active`` flipped, and
    the names (never the values) of the other fields that changed."""
    audited = USER_ATTRIBUTES.derived(_audited_fields)
    fields = [f for f in audited if before.value(f) != after.value(f)]
    if before.active and not after.active:
        action = "scim.user_deactivated"
    elif after.active and not before.active:
        action = "scim.user_reactivated"
    else:
        action = "scim.user_updated"
    detail = f"staff={user_id}"
    return action, f"{detail} fields={','.join(fields)}" if fields else detail


def _visible(user: StaffUser | None, user_id: UUID) -> StaffUser:
    # Accounts made in the platform (the practice administrator, say) are not the identity
    # provider's to read or change.
    if user is None or user.scim_deleted or not user.scim_provisioned:
        raise NotFound(f"no user {user_id}")
    return user
