"""A page of users is one statement for the accounts and their groups, whatever its size
(and a ``COUNT`` when the page is full), and each account of a page is what a read by id
of it returns (``get_with_groups``), groups and their order included."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest

from server.domain.groups import GroupProfile, GroupRecord
from server.domain.query import FieldTest, Operator, ResourceQuery
from server.domain.staff import StaffProfile
from server.domain.text import text_key
from tests.factories import scim_account
from tests.integration.test_persistence import EPOCH

if TYPE_CHECKING:
    from uuid import UUID

    from server.domain.staff import StaffUser
    from server.persistence.store import PiccoloStore

USERS = 12


def _counted(store: PiccoloStore, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every statement the store's driver runs from now on (fixed or built)."""
    asked: list[Any] = []
    direct = store.direct
    fetch, fetch_query = direct.fetch, direct.fetch_query

    async def counted_fetch(statement: Any, *args: Any) -> Any:
        asked.append(statement)
        return await fetch(statement, *args)

    async def counted_query(query: Any) -> Any:
        asked.append(query)
        return await fetch_query(query)

    monkeypatch.setattr(direct, "fetch", counted_fetch)
    monkeypatch.setattr(direct, "fetch_query", counted_query)
    return asked


async def _practice(store: PiccoloStore) -> tuple[UUID, list[StaffUser]]:
    """``USERS`` accounts, some without a family name (sorted last), one with a password,
    in zero to three groups each."""
    practice_id = uuid4()
    users = []
    for number in range(USERS):
        profile = StaffProfile(
            user_name=f"user{number:02d}@example.org",
            family_name=None if number % 4 == 0 else f"Family{(number * 7) % USERS:02d}",
        )
        user = scim_account(profile, practice_id=practice_id, at=EPOCH + timedelta(seconds=number))
        await store.staff.add(user, password_hash="hash" if number == 5 else None)
        users.append(user)
    for name, members in (
        ("Night shift", users[::2]),
        ("admissions", users[::3]),
        ("B", users[:3]),
    ):
        await store.groups.add(
            GroupRecord(
                id=uuid4(),
                practice_id=practice_id,
                profile=GroupProfile(display_name=name, member_ids=tuple(u.id for u in members)),
                version=1,
                created_at=EPOCH,
                updated_at=EPOCH,
            )
        )
    return practice_id, users


@pytest.mark.parametrize(
    ("sort_field", "descending"),
    [(None, False), ("family_name", False), ("family_name", True), ("user_name", True)],
)
async def test_each_account_of_a_page_is_its_read_by_id(
    store: PiccoloStore, sort_field: str | None, *, descending: bool
) -> None:
    practice_id, users = await _practice(store)
    query = ResourceQuery(sort_field=sort_field, descending=descending, limit=USERS)
    total, page = await store.staff.list_scim_with_groups(practice_id, query)
    assert total == USERS
    expected = users
    if sort_field is not None:
        valued = [u for u in users if u.profile.value(sort_field) is not None]
        valued.sort(key=lambda u: text_key(u.profile.value(sort_field)), reverse=descending)
        expected = valued + [u for u in users if u.profile.value(sort_field) is None]
    assert [user.id for user, _ in page] == [user.id for user in expected]
    for user, groups in page:
        assert (user, groups) == await store.staff.get_with_groups(practice_id, user.id)
    assert {user.id for user, _ in page} == {user.id for user in users}
    assert [user.has_password for user, _ in page].count(True) == 1
    assert any(len(groups) == 3 for _, groups in page)


@pytest.mark.parametrize("offset", [0, 4, 8])
async def test_a_page_is_one_statement_and_a_count_when_full(
    store: PiccoloStore, monkeypatch: pytest.MonkeyPatch, offset: int
) -> None:
    practice_id, _ = await _practice(store)
    asked = _counted(store, monkeypatch)
    total, page = await store.staff.list_scim_with_groups(
        practice_id, ResourceQuery(offset=offset, limit=4)
    )
    assert (total, len(page)) == (USERS, 4)
    assert len(asked) == 2
    asked.clear()
    total, page = await store.staff.list_scim_with_groups(
        practice_id, ResourceQuery(offset=offset, limit=USERS + 1)
    )
    assert (total, len(page)) == (USERS, USERS - offset)
    assert len(asked) == 1  # a short page is the last: no COUNT
    asked.clear()
    lookup = FieldTest("user_name", Operator.EQ, "USER03@example.org")
    total, page = await store.staff.list_scim_with_groups(
        practice_id, ResourceQuery(predicate=lookup)
    )
    assert (total, [user.profile.user_name for user, _ in page]) == (1, ["user03@example.org"])
    assert len(asked) == 1


async def test_a_page_read_in_a_transaction_is_the_page_read_outside(store: PiccoloStore) -> None:
    """Rows are read by position whatever their form: ``sqlite3.Row`` from SQLite's inline
    reader, a dict from a SQLite transaction's connection, ``asyncpg.Record``."""
    practice_id, _ = await _practice(store)
    query = ResourceQuery(sort_field="family_name", limit=USERS)
    outside = await store.staff.list_scim_with_groups(practice_id, query)
    async with store.transaction():
        inside = await store.staff.list_scim_with_groups(practice_id, query)
    assert inside == outside
    assert any(groups for _, groups in outside[1])
