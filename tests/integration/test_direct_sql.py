"""Fixed statements run straight on the driver (server.persistence.fixed_statements): the same rows
as piccolo's path, on both databases, and inside a transaction the transaction's view."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest
from piccolo.querystring import QueryString

from server.domain.practices import Practice
from server.domain.staff import StaffProfile
from server.persistence.fixed_statements import Statement
from server.persistence.rows import as_uuid
from tests.factories import scim_account

if TYPE_CHECKING:
    from server.persistence.store import PiccoloStore


@pytest.mark.parametrize(
    ("text", "sqlite", "postgres"),
    [
        ("SELECT 1", "SELECT 1", "SELECT 1"),
        ("a = {} AND b = {}", "a = ? AND b = ?", "a = $1 AND b = $2"),
        ("x IN ({}, {}, {})", "x IN (?, ?, ?)", "x IN ($1, $2, $3)"),
    ],
)
def test_a_statement_in_both_dialects(text: str, sqlite: str, postgres: str) -> None:
    statement = Statement.of(text)
    assert (statement.sqlite, statement.postgres) == (sqlite, postgres)


_NAME = Statement.of("SELECT id, name FROM practice WHERE id = {}")


def _practice(name: str) -> Practice:
    return Practice(id=uuid4(), name=name, created_at=datetime.now(UTC))


async def test_direct_rows_match_the_repository(store: PiccoloStore) -> None:
    practice = _practice("Direct rows")
    await store.practices.add(practice)
    rows = await store.direct.fetch(_NAME, store.direct.argument(practice.id))
    assert [(as_uuid(r["id"]), r["name"]) for r in rows] == [(practice.id, "Direct rows")]
    assert await store.practices.get(practice.id) == practice
    assert await store.direct.fetch(_NAME, store.direct.argument(uuid4())) == []


async def test_a_nested_query_string_runs_directly_with_the_same_rows(store: PiccoloStore) -> None:
    """A filter's WHERE clause is a nested QueryString; compiled here, its arguments keep their
    order in both dialects."""
    named = [_practice(name) for name in ("Nested B", "Nested A", "Other")]
    for practice in named:
        await store.practices.add(practice)
    arg = store.direct.argument
    wanted = QueryString(
        "({}) OR ({})",
        QueryString("id = {}", arg(named[0].id)),
        QueryString("id = {} AND name LIKE {}", arg(named[1].id), "Nested%"),
    )
    rows = await store.direct.fetch_query(
        QueryString("SELECT id, name FROM practice WHERE {} ORDER BY name LIMIT {}", wanted, 5)
    )
    assert [(as_uuid(r["id"]), r["name"]) for r in rows] == [
        (named[1].id, "Nested A"),
        (named[0].id, "Nested B"),
    ]


async def test_inside_a_transaction_a_direct_read_sees_its_writes(store: PiccoloStore) -> None:
    class Abandon(Exception):
        pass

    seen: list[str] = []
    practice = _practice("never stored")
    try:
        async with store.transaction():
            practice = _practice("Uncommitted")
            await store.practices.add(practice)
            rows = await store.direct.fetch(_NAME, store.direct.argument(practice.id))
            seen = [r["name"] for r in rows]
            raise Abandon
    except Abandon:
        pass
    assert seen == ["Uncommitted"]
    assert await store.direct.fetch(_NAME, store.direct.argument(practice.id)) == []


async def test_a_direct_update_reads_back_the_same_through_piccolo(store: PiccoloStore) -> None:
    """The UPDATE is a fixed statement; what it stores must be what piccolo's typed select
    reads back (instants with microseconds, an offset other than UTC, booleans, nulls)."""
    practice = _practice("Direct update")
    await store.practices.add(practice)
    created = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    user = scim_account(
        StaffProfile(user_name="direct@example.org", given_name="Before"),
        practice_id=practice.id,
        at=created,
    )
    await store.staff.add(user)
    later = datetime(2026, 3, 5, 1, 2, 3, 450001, tzinfo=timezone(timedelta(hours=2)))
    changed = replace(
        user,
        profile=StaffProfile(
            user_name="Direct@Example.org",
            family_name="Ünïcode",
            cell_phone="+1 555 0100",
            email="direct@example.org",
            active=False,
            external_id="ext-1",
        ),
        sso_issuer="https://idp.example.org",
        sso_subject="subject-1",
        version=2,
        updated_at=later,
    )
    assert await store.staff.update(changed, expected_version=1) == changed
    expected = replace(changed, updated_at=later.astimezone(UTC))
    assert await store.staff.list_all(practice.id) == [expected]  # piccolo's typed select
    assert await store.staff.get(practice.id, user.id) == expected  # the direct read
