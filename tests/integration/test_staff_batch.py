"""Reads by id that arrive together share one statement on SQLite (``TurnBatch`` and
``staff_with_groups``), and answer exactly as one read each: the same account, the same
groups in the same order, nothing from another practice, a change from anywhere at once."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from server.domain.groups import GroupProfile, GroupRecord
from server.persistence.staff_batch import BY_ID_WITH_GROUPS
from tests.integration.test_persistence import EPOCH, _staff
from tests.integration.test_token_memory import _count_queries

if TYPE_CHECKING:
    import pytest

    from server.domain.staff import StaffUser
    from server.persistence.store import PiccoloStore


async def _group(store: PiccoloStore, practice_id: UUID, name: str, *members: UUID) -> None:
    await store.groups.add(
        GroupRecord(
            id=uuid4(),
            practice_id=practice_id,
            profile=GroupProfile(display_name=name, member_ids=members),
            version=1,
            created_at=EPOCH,
            updated_at=EPOCH,
        )
    )


async def _practice(store: PiccoloStore, names: list[str]) -> tuple[UUID, list[StaffUser]]:
    practice_id = uuid4()
    users = [_staff(practice_id, name) for name in names]
    for user in users:
        await store.staff.add(user)
    return practice_id, users


async def _one_by_one(store: PiccoloStore, practice_id: UUID, user_id: UUID) -> Any:
    """The single statement, as PostgreSQL and a transaction run it."""
    async with store.transaction():
        return await store.staff.get_with_groups(practice_id, user_id)


async def test_reads_together_answer_as_reads_alone(
    store: PiccoloStore, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL's text cannot hold NUL (the API refuses it before it gets here).
    odd = "with\x00nul" if backend == "sqlite" else "with nothing odd"
    first, users = await _practice(store, ["alone", "three groups", "Zoë\u00e9 ünïcode", odd])
    second, others = await _practice(store, ["elsewhere"])
    await _group(store, first, "Night shift", users[1].id, users[2].id)
    await _group(store, first, "admissions", users[1].id)
    await _group(store, first, "Front desk", users[1].id)
    await _group(store, second, "Elsewhere's", others[0].id)
    asked = [
        (first, users[0].id),
        (first, users[1].id),
        (first, users[2].id),
        (first, users[3].id),
        (first, others[0].id),  # another practice's user: not found here
        (second, others[0].id),
        (first, uuid4()),  # nobody
        (first, users[1].id),  # asked twice in one turn
    ]
    expected = [await _one_by_one(store, practice, user) for practice, user in asked]
    queries = _count_queries(store, monkeypatch)
    together = await asyncio.gather(*(store.staff.get_with_groups(p, u) for p, u in asked))
    assert together == expected
    assert expected[1] is not None
    assert [name for _, name in expected[1][1]] == ["admissions", "Front desk", "Night shift"]
    assert expected[4] is None
    assert expected[6] is None
    # SQLite: one statement for the turn; PostgreSQL: one each.
    assert len(queries) == (1 if backend == "sqlite" else len(asked))
    if backend == "sqlite":
        assert queries[0] is not BY_ID_WITH_GROUPS


async def test_changes_from_another_process_are_read_at_once(
    store: PiccoloStore, backend: str, database_url: str
) -> None:
    practice_id, [user] = await _practice(store, ["changing"])
    await _group(store, practice_id, "Front desk", user.id)
    found = await store.staff.get_with_groups(practice_id, user.id)
    assert found is not None
    assert found[0].profile.active
    assert [name for _, name in found[1]] == ["Front desk"]
    if backend == "sqlite":
        # Another process's connection, as a second worker or a CLI command has.
        other = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            other.execute("UPDATE staff_user SET active = 0 WHERE id = ?", [str(user.id)])
            other.execute("DELETE FROM group_member WHERE staff_id = ?", [str(user.id)])
            other.commit()
        finally:
            other.close()
    else:
        inactive = replace(user, profile=replace(user.profile, active=False))
        await store.staff.update(inactive, expected_version=user.version)
        await store.groups.remove_member(practice_id, user.id)
    again = await store.staff.get_with_groups(practice_id, user.id)
    assert again is not None
    assert not again[0].profile.active
    assert again[1] == []


async def test_inside_a_transaction_each_read_is_its_own(
    store: PiccoloStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    practice_id, users = await _practice(store, ["one", "two"])
    queries = _count_queries(store, monkeypatch)
    async with store.transaction():
        found = [await store.staff.get_with_groups(practice_id, user.id) for user in users]
    assert [user.id for user, _ in found] == [user.id for user in users]
    assert queries == [BY_ID_WITH_GROUPS, BY_ID_WITH_GROUPS]
