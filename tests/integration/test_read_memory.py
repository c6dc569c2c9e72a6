"""A user read by id is remembered only while nothing is committed (``SnapshotMemo``): a
change from anywhere, another process included, is read at once; PostgreSQL always asks."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import TYPE_CHECKING
from uuid import uuid4

from server.domain.groups import GroupProfile, GroupRecord
from tests.integration.test_persistence import EPOCH, _config, _staff
from tests.integration.test_token_memory import _count_queries

if TYPE_CHECKING:
    from uuid import UUID

    import pytest

    from server.persistence.store import PiccoloStore


async def _member_of_one_group(store: PiccoloStore) -> tuple[UUID, UUID]:
    practice_id = uuid4()
    user = _staff(practice_id, "remembered")
    await store.staff.add(user)
    await store.groups.add(
        GroupRecord(
            id=uuid4(),
            practice_id=practice_id,
            profile=GroupProfile(display_name="Front desk", member_ids=(user.id,)),
            version=1,
            created_at=EPOCH,
            updated_at=EPOCH,
        )
    )
    return practice_id, user.id


async def test_a_user_is_read_again_only_after_a_write(
    store: PiccoloStore, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    practice_id, user_id = await _member_of_one_group(store)
    asked = _count_queries(store, monkeypatch)
    first = await store.staff.get_with_groups(practice_id, user_id)
    for _ in range(2):
        assert await store.staff.get_with_groups(practice_id, user_id) == first
    assert len(asked) == (1 if backend == "sqlite" else 3)
    # Any committed write, even in another practice, makes the next read ask.
    await _config(store)
    assert await store.staff.get_with_groups(practice_id, user_id) == first
    assert len(asked) == (2 if backend == "sqlite" else 4)


async def test_a_remembered_user_is_keyed_by_its_practice(store: PiccoloStore) -> None:
    practice_id, user_id = await _member_of_one_group(store)
    assert await store.staff.get_with_groups(practice_id, user_id) is not None
    assert await store.staff.get_with_groups(uuid4(), user_id) is None


async def test_changes_from_another_process_are_read_at_once(
    store: PiccoloStore, backend: str, database_url: str
) -> None:
    practice_id, user_id = await _member_of_one_group(store)
    found = await store.staff.get_with_groups(practice_id, user_id)
    assert found is not None
    assert found[0].profile.active
    assert [name for _, name in found[1]] == ["Front desk"]
    if backend == "sqlite":
        # Another process's connection, as a second worker or a CLI command has.
        other = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            other.execute("UPDATE staff_user SET active = 0 WHERE id = ?", [str(user_id)])
            other.execute("DELETE FROM group_member WHERE staff_id = ?", [str(user_id)])
            other.commit()
        finally:
            other.close()
    else:
        user = found[0]
        inactive = replace(user, profile=replace(user.profile, active=False))
        await store.staff.update(inactive, expected_version=user.version)
        await store.groups.remove_member(practice_id, user_id)
    again = await store.staff.get_with_groups(practice_id, user_id)
    assert again is not None
    assert not again[0].profile.active
    assert again[1] == []


async def test_the_groups_handed_out_are_the_callers_own(store: PiccoloStore) -> None:
    practice_id, user_id = await _member_of_one_group(store)
    found = await store.staff.get_with_groups(practice_id, user_id)
    assert found is not None
    found[1].clear()
    again = await store.staff.get_with_groups(practice_id, user_id)
    assert again is not None
    assert [name for _, name in again[1]] == ["Front desk"]


async def test_nothing_is_remembered_inside_a_transaction(
    store: PiccoloStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    practice_id, user_id = await _member_of_one_group(store)
    asked = _count_queries(store, monkeypatch)
    async with store.transaction():
        await store.staff.get_with_groups(practice_id, user_id)
        await store.staff.get_with_groups(practice_id, user_id)
    assert len(asked) == 2
