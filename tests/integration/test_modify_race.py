"""A change made without a precondition is never lost: ``modify`` writes only the version it
read, and a change that lost the race runs again on the newer version, with the account read
locked. The read is outside any transaction (the write and its audit entry share a short one),
so only that guard keeps both writers' changes."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from server.domain.provisioning import ProvisioningService
from server.domain.staff import StaffProfile

if TYPE_CHECKING:
    from server.domain.staff import StaffUser
    from server.persistence.store import PiccoloStore
    from tests.conftest import PracticeFixture


class _PausedStaff:
    """The store's staff repository: the first read waits to be let go before it answers, so
    its writer is held between its read and its write (which runs in a transaction, with its
    audit entry: a pause inside it would hold SQLite's write lock)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.reached = asyncio.Event()
        self.let_go = asyncio.Event()
        self._paused = False
        self.locks: list[bool] = []

    async def get_with_groups(self, practice_id: UUID, user_id: UUID, *, lock: bool = False) -> Any:
        self.locks.append(lock)
        found = await self._inner.get_with_groups(practice_id, user_id, lock=lock)
        if not self._paused:
            self._paused = True
            self.reached.set()
            await self.let_go.wait()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Store:
    def __init__(self, inner: PiccoloStore, staff: _PausedStaff) -> None:
        self._inner = inner
        self.staff = staff

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def test_a_change_that_lost_the_race_runs_again_on_the_newer_version(
    store: PiccoloStore, practice: PracticeFixture
) -> None:
    practice_id = UUID(practice.id)
    direct = ProvisioningService(store)
    name = f"race.{uuid.uuid4().hex[:8]}@example.org"
    user = await direct.create(practice_id, StaffProfile(user_name=name))
    staff = _PausedStaff(store.staff)
    paused = ProvisioningService(_Store(store, staff))  # type: ignore[arg-type]
    seen: list[int] = []

    def given(current: StaffUser) -> StaffProfile:
        seen.append(current.version)
        return replace(current.profile, given_name="Given")

    def family(current: StaffUser) -> StaffProfile:
        return replace(current.profile, family_name="Family")

    first = asyncio.create_task(paused.modify(practice_id, user.id, given))
    await staff.reached.wait()  # read version 1, about to write it
    between, _ = await direct.modify(practice_id, user.id, family)
    assert between.version == 2
    staff.let_go.set()
    written, _ = await first
    assert seen == [1, 2]  # refused at version 1, run again on version 2
    assert staff.locks == [False, True]  # the second time with the account locked
    assert written.version == 3
    assert (written.profile.given_name, written.profile.family_name) == ("Given", "Family")
    stored = await direct.get(practice_id, user.id)
    assert stored.profile == written.profile
    assert stored.version == 3


async def test_a_locked_read_needs_a_transaction(
    store: PiccoloStore, practice: PracticeFixture
) -> None:
    """A lock outside a transaction would hold nothing: refused, not silently taken."""
    practice_id = UUID(practice.id)
    user = await ProvisioningService(store).create(
        practice_id, StaffProfile(user_name=f"lock.{uuid.uuid4().hex[:8]}@example.org")
    )
    with pytest.raises(RuntimeError, match="outside a transaction"):
        await store.staff.get_with_groups(practice_id, user.id, lock=True)
    with pytest.raises(RuntimeError, match="outside a transaction"):
        await store.groups.get(practice_id, uuid.uuid4(), with_members=True, lock=True)
    async with store.transaction():
        locked = await store.staff.get_with_groups(practice_id, user.id, lock=True)
        assert (
            await store.groups.get(practice_id, uuid.uuid4(), with_members=True, lock=True) is None
        )
    assert locked == await store.staff.get_with_groups(practice_id, user.id)
