"""The total of a SCIM user list is read from an index alone (migration m0109): counting a
practice's provisioned, undeleted accounts visits no table row, however many the practice
holds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from piccolo.querystring import QueryString

from loadtests.seed import seed_users
from server.domain.query import ResourceQuery
from server.persistence.sql_filters import cursor_condition
from server.persistence.staff_pages import count_statement, listed_accounts, page_statement

if TYPE_CHECKING:
    from server.persistence.store import PiccoloStore
    from tests.conftest import PracticeFixture

INDEX = "staff_user_practice_scim_flags"


async def test_the_list_count_reads_only_its_index(
    store: PiccoloStore, practice: PracticeFixture
) -> None:
    """Every term of the count's condition bounds the index search and no row of the table
    is read: SQLite says ``COVERING INDEX``; PostgreSQL plans an index-only scan with no
    filter left over. (On PostgreSQL the other plans are priced out, so the plan shows
    whether this index can answer the count at all, whatever the table's size.)"""
    direct = store.direct
    practice_id = uuid.UUID(practice.id)
    await seed_users(store, practice_id, 200)
    count = count_statement(listed_accounts(direct.argument(practice_id)))
    assert (await direct.fetch_query(count))[0]["total"] == 200
    if direct.sqlite:
        plan = " ".join(
            str(row["detail"])
            for row in await direct.fetch_query(QueryString("EXPLAIN QUERY PLAN {}", count))
        )
        assert f"USING COVERING INDEX {INDEX}" in plan, plan
        assert "(practice_id=? AND scim_provisioned=? AND scim_deleted=?)" in plan, plan
        return
    async with store.transaction():
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_indexscan"):
            await direct.fetch_query(QueryString(f"SET LOCAL {setting} = off"))
        rows = await direct.fetch_query(QueryString("EXPLAIN {}", count))
    plan = "\n".join(str(next(iter(row.values()))) for row in rows)
    assert f"Index Only Scan using {INDEX}" in plan, plan
    assert "scim_provisioned = true" in plan, plan
    assert "scim_deleted = false" in plan, plan
    assert "Filter" not in plan, plan  # both flags are index conditions


async def test_pages_still_read_the_creation_index(
    store: PiccoloStore, practice: PracticeFixture
) -> None:
    """The count's index does not take over the page: a cursor page of the same condition
    is still a range of ``(practice_id, created_at, id)`` read in order, not every listed
    account of the practice read through the flags' index and then sorted."""
    direct = store.direct
    practice_id = uuid.UUID(practice.id)
    await seed_users(store, practice_id, 200)
    edge = (datetime(2026, 1, 1, tzinfo=UTC), uuid.uuid4())
    query = ResourceQuery(limit=10, after=edge)
    position = cursor_condition(query, sqlite=direct.sqlite)
    assert position is not None
    condition = QueryString("{} AND {}", listed_accounts(direct.argument(practice_id)), position)
    page = page_statement(direct.sqlite, query, condition)
    if direct.sqlite:
        plan = " ".join(
            str(row["detail"])
            for row in await direct.fetch_query(QueryString("EXPLAIN QUERY PLAN {}", page))
        )
        created = "USING INDEX staff_user_practice_created (practice_id=? AND (created_at,id)>"
        assert created in plan, plan
        assert INDEX not in plan, plan
        return
    async with store.transaction():
        for setting in ("enable_seqscan", "enable_sort"):
            await direct.fetch_query(QueryString(f"SET LOCAL {setting} = off"))
        rows = await direct.fetch_query(QueryString("EXPLAIN {}", page))
    plan = "\n".join(str(next(iter(row.values()))) for row in rows)
    assert "Index Scan using staff_user_practice_created" in plan, plan
    assert INDEX not in plan, plan
