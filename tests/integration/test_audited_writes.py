"""An account written with its audit entry (``StaffRepository.add`` and ``update`` with
``audit``), on each backend: both are written or neither. On PostgreSQL they are one
statement (a data-modifying WITH), on SQLite two in one transaction."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID, uuid4

import pytest

from server.domain.errors import PreconditionFailed, UniquenessConflict, WriteConflict
from server.domain.practices import AuditEntry
from tests.factories import MOMENT, scim_account

if TYPE_CHECKING:
    from server.domain.staff import StaffUser
    from server.persistence.store import PiccoloStore


def _entry(practice_id: UUID, action: str, *, actor: Any = "idp:static:abcd") -> AuditEntry:
    return AuditEntry(practice_id, actor, action, f"detail of {action}", MOMENT)


def _unwritable(practice_id: UUID) -> AuditEntry:
    """An entry the database refuses (its actor is NOT NULL), after the account's write."""
    return _entry(practice_id, "scim.refused", actor=cast("str", None))


def _renamed(user: StaffUser, user_name: str) -> StaffUser:
    return replace(user, profile=replace(user.profile, user_name=user_name), version=2)


async def _actions(store: PiccoloStore, practice_id: UUID) -> list[str]:
    return [e.action for e in await store.audit.list(practice_id, limit=100)]


async def test_an_add_and_an_update_record_their_entries(store: PiccoloStore) -> None:
    practice_id = uuid4()
    user = scim_account("recorded", practice_id=practice_id)
    await store.staff.add(user, audit=_entry(practice_id, "scim.user_created"))
    assert await store.staff.get(practice_id, user.id) == user
    renamed = _renamed(user, "recorded.again")
    written = await store.staff.update(
        renamed, expected_version=1, audit=_entry(practice_id, "scim.user_updated")
    )
    assert written == renamed
    assert await store.staff.get(practice_id, user.id) == renamed
    entries = {e.action: e for e in await store.audit.list(practice_id, limit=10)}
    assert entries.keys() == {"scim.user_created", "scim.user_updated"}
    created = entries["scim.user_created"]
    assert (created.actor, created.detail) == ("idp:static:abcd", "detail of scim.user_created")
    assert created.created_at == MOMENT


async def test_a_taken_user_name_writes_neither_account_nor_entry(store: PiccoloStore) -> None:
    practice_id = uuid4()
    await store.staff.add(scim_account("taken", practice_id=practice_id))
    second = scim_account("TAKEN", practice_id=practice_id)
    with pytest.raises(UniquenessConflict):
        await store.staff.add(second, audit=_entry(practice_id, "scim.user_created"))
    assert await store.staff.get(practice_id, second.id) is None
    assert await _actions(store, practice_id) == []

    free = scim_account("free", practice_id=practice_id)
    await store.staff.add(free)
    with pytest.raises(UniquenessConflict):
        await store.staff.update(
            _renamed(free, "Taken"), expected_version=1, audit=_entry(practice_id, "scim.renamed")
        )
    assert await store.staff.get(practice_id, free.id) == free
    assert await _actions(store, practice_id) == []


async def test_an_entry_that_fails_leaves_no_account(store: PiccoloStore) -> None:
    practice_id = uuid4()
    user = scim_account("unrecorded", practice_id=practice_id)
    with pytest.raises(Exception, match="actor") as refused:
        await store.staff.add(user, audit=_unwritable(practice_id))
    assert not isinstance(refused.value, UniquenessConflict)
    assert await store.staff.get(practice_id, user.id) is None
    assert await _actions(store, practice_id) == []
    await store.staff.add(user)  # its userName was never taken


async def test_an_entry_that_fails_leaves_the_account_unchanged(store: PiccoloStore) -> None:
    practice_id = uuid4()
    user = scim_account("kept", practice_id=practice_id)
    await store.staff.add(user)
    with pytest.raises(Exception, match="actor") as refused:
        await store.staff.update(
            _renamed(user, "changed"), expected_version=1, audit=_unwritable(practice_id)
        )
    assert not isinstance(refused.value, PreconditionFailed | UniquenessConflict)
    assert await store.staff.get(practice_id, user.id) == user
    assert await _actions(store, practice_id) == []


async def test_a_stale_version_writes_neither_change_nor_entry(store: PiccoloStore) -> None:
    practice_id = uuid4()
    user = scim_account("versioned", practice_id=practice_id)
    await store.staff.add(user)
    current = _renamed(user, "first.writer")
    await store.staff.update(current, expected_version=1)
    with pytest.raises(WriteConflict):
        await store.staff.update(
            _renamed(user, "second.writer"),
            expected_version=1,
            audit=_entry(practice_id, "scim.user_updated"),
        )
    assert await store.staff.get(practice_id, user.id) == current
    assert await _actions(store, practice_id) == []


async def test_an_audited_write_in_a_failed_transaction_is_undone(store: PiccoloStore) -> None:
    practice_id = uuid4()
    user = scim_account("undone", practice_id=practice_id)

    async def add_then_fail() -> None:
        async with store.transaction():
            await store.staff.add(user, audit=_entry(practice_id, "scim.user_created"))
            raise RuntimeError("after the write")

    with pytest.raises(RuntimeError, match="after the write"):
        await add_then_fail()
    assert await store.staff.get(practice_id, user.id) is None
    assert await _actions(store, practice_id) == []
