"""Fixed statements run straight on the driver (server.persistence.direct): the same rows
as piccolo's path, on both databases, and inside a transaction the transaction's view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest

from server.domain.practices import Practice
from server.persistence.direct import Statement
from server.persistence.rows import as_uuid

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
