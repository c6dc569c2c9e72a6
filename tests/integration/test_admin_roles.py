"""The practice administrator role, given and removed by administrators: the practice always
keeps an active administrator, whoever asks and however many ask at once."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING
from uuid import UUID

import pytest

from server.domain.staff import StaffProfile
from server.domain.staff_admin import RoleRefused
from server.services import Services

if TYPE_CHECKING:
    from server.persistence.store import PiccoloStore
    from server.settings import Settings


async def _practice(services: Services) -> tuple[UUID, UUID]:
    created = await services.practices.create_practice(f"P {uuid.uuid4().hex[:6]}", actor="t")
    return created.practice.id, created.admin_user_id


async def _staff(services: Services, practice: UUID, name: str) -> UUID:
    user = await services.team.add_staff(practice, StaffProfile(user_name=name), actor="t")
    return user.id


async def _admins(store: PiccoloStore, practice: UUID) -> set[UUID]:
    return {u.id for u in await store.staff.list_all(practice) if u.is_practice_admin}


async def test_grant_revoke_and_never_the_last(store: PiccoloStore, settings: Settings) -> None:
    services = Services.build(store, settings)
    practice, first = await _practice(services)
    ana = await _staff(services, practice, "ana")
    roles = services.staff_admin
    with pytest.raises(RoleRefused, match="last administrator"):
        await roles.set_administrator(practice, first, admin=False, actor="console:admin")
    await roles.set_administrator(practice, ana, admin=True, actor="console:admin")
    assert await _admins(store, practice) == {first, ana}
    await roles.set_administrator(practice, ana, admin=True, actor="console:admin")  # no-op
    # With another administrator, one may step down; the other is then the last.
    await roles.set_administrator(practice, first, admin=False, actor="console:admin")
    with pytest.raises(RoleRefused):
        await roles.set_administrator(practice, ana, admin=False, actor="console:ana")
    assert await _admins(store, practice) == {ana}
    audit = [
        (e.action, e.detail)
        for e in await store.audit.list(practice, limit=20)
        if e.action.startswith("role.")
    ]
    assert audit == [
        ("role.admin_revoked", f"staff={first}"),
        ("role.admin_granted", f"staff={ana}"),
    ]


async def test_a_deactivated_administrator_does_not_count(
    store: PiccoloStore, settings: Settings
) -> None:
    services = Services.build(store, settings)
    practice, first = await _practice(services)
    bo = await _staff(services, practice, "bo")
    cy = await _staff(services, practice, "cy")
    await services.staff_admin.set_administrator(practice, bo, admin=True, actor="t")
    for who in (bo, cy):
        user = await store.staff.get(practice, who)
        assert user is not None
        gone = replace(user, profile=replace(user.profile, active=False), version=user.version + 1)
        await store.staff.update(gone, expected_version=user.version)
    with pytest.raises(RoleRefused, match="last administrator"):
        await services.staff_admin.set_administrator(practice, first, admin=False, actor="t")
    with pytest.raises(RoleRefused, match="deactivated"):
        await services.staff_admin.set_administrator(practice, cy, admin=True, actor="t")
    assert await _admins(store, practice) == {first, bo}


@pytest.mark.parametrize("rounds", [8])
async def test_two_administrators_removing_each_other_at_once_leave_one(
    store: PiccoloStore, settings: Settings, rounds: int
) -> None:
    """The attack: A removes B while B removes A, again and again. Without the lock on the
    administrators both could see two administrators and both succeed."""
    services = Services.build(store, settings)
    for _ in range(rounds):
        practice, first = await _practice(services)
        second = await _staff(services, practice, "second")
        await services.staff_admin.set_administrator(practice, second, admin=True, actor="t")
        results = await asyncio.gather(
            services.staff_admin.set_administrator(practice, second, admin=False, actor="a"),
            services.staff_admin.set_administrator(practice, first, admin=False, actor="b"),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, RoleRefused)]
        assert len(refused) == 1, results
        assert len(await _admins(store, practice)) == 1
