"""RFC 9865 cursor paging of ``/Users`` and ``/Groups`` over HTTP, on both databases."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from piccolo.querystring import QueryString

from loadtests.seed import seed_users
from server.domain.query import ResourceQuery
from server.persistence.sql_filters import keyset
from server.scim.cursors import (
    CURSOR_TIMEOUT_SECONDS,
    CursorCodec,
    CursorPosition,
    cursor_codec,
    query_binding,
)
from server.services import Services
from server.settings import Settings
from tests.conftest import PracticeFixture, bearer_headers, new_practice

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


async def _add_user(client: AsyncTestClient[Any], practice: PracticeFixture, h: Any) -> str:
    name = f"u{uuid.uuid4().hex[:10]}@x.org"
    response = await client.post(
        f"{practice.scim_path}/Users", json={"schemas": [USER_SCHEMA], "userName": name}, headers=h
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _users(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: Any, n: int
) -> list[str]:
    return [await _add_user(client, practice, headers) for _ in range(n)]


async def _get(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: Any, path: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    response = await client.get(f"{practice.scim_path}/{path}", params=params, headers=headers)
    return response.status_code, response.json()


async def test_walk_sees_every_user_once(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ids = await _users(client, practice, token_headers, 7)
    seen: list[str] = []
    status, body = await _get(client, practice, token_headers, "Users", cursor="", count=3)
    pages = 0
    while True:
        assert status == 200, body
        pages += 1
        assert body["totalResults"] == 7
        assert "startIndex" not in body
        assert body["itemsPerPage"] == len(body["Resources"]) <= 3
        seen += [r["id"] for r in body["Resources"]]
        if "nextCursor" not in body:
            break
        status, body = await _get(
            client, practice, token_headers, "Users", cursor=body["nextCursor"], count=3
        )
    assert pages == 3
    assert seen == ids  # creation order, each once


async def test_last_full_page_has_no_next_cursor(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    await _users(client, practice, token_headers, 4)
    status, first = await _get(client, practice, token_headers, "Users", cursor="", count=2)
    assert status == 200
    status, last = await _get(
        client, practice, token_headers, "Users", cursor=first["nextCursor"], count=2
    )
    assert status == 200
    assert len(last["Resources"]) == 2
    assert "nextCursor" not in last


async def test_walk_while_users_come_and_go(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    """Users that exist throughout are each seen exactly once; nothing is seen twice."""
    ids = await _users(client, practice, token_headers, 12)
    doomed = set(ids[1::3])
    kept = [i for i in ids if i not in doomed]
    seen: list[str] = []
    added: list[str] = []
    cursor = ""
    for step in range(100):
        status, body = await _get(client, practice, token_headers, "Users", cursor=cursor, count=2)
        assert status == 200, body
        seen += [r["id"] for r in body["Resources"]]
        if step < len(doomed):  # each page: delete one user (ahead or behind) and add one
            victim = sorted(doomed)[step]
            deleted = await client.delete(
                f"{practice.scim_path}/Users/{victim}", headers=token_headers
            )
            assert deleted.status_code == 204
            added.append(await _add_user(client, practice, token_headers))
        if "nextCursor" not in body:
            break
        cursor = body["nextCursor"]
    assert len(seen) == len(set(seen)), "a user was seen twice"
    assert set(kept) <= set(seen), "a user that existed throughout was skipped"
    assert set(seen) <= set(ids) | set(added)


async def test_search_by_post_and_groups(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ids = await _users(client, practice, token_headers, 3)
    seen: list[str] = []
    body: dict[str, Any] = {"schemas": [SEARCH_SCHEMA], "cursor": "", "count": 2}
    while True:
        response = await client.post(
            f"{practice.scim_path}/Users/.search", json=body, headers=token_headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [r["id"] for r in page["Resources"]]
        if "nextCursor" not in page:
            break
        body = {**body, "cursor": page["nextCursor"]}
    assert seen == ids

    groups = []
    for n in range(3):
        response = await client.post(
            f"{practice.scim_path}/Groups",
            json={"schemas": [GROUP_SCHEMA], "displayName": f"G{n}"},
            headers=token_headers,
        )
        assert response.status_code == 201
        groups.append(response.json()["id"])
    status, page = await _get(client, practice, token_headers, "Groups", cursor="", count=2)
    assert status == 200
    assert [g["id"] for g in page["Resources"]] == groups[:2]
    status, page = await _get(
        client, practice, token_headers, "Groups", cursor=page["nextCursor"], count=2
    )
    assert status == 200
    assert [g["id"] for g in page["Resources"]] == groups[2:]
    assert "nextCursor" not in page
    # A Users cursor is not a Groups cursor.
    status, users_page = await _get(client, practice, token_headers, "Users", cursor="", count=1)
    status, body = await _get(
        client, practice, token_headers, "Groups", cursor=users_page["nextCursor"], count=1
    )
    assert (status, body.get("scimType")) == (400, "invalidCursor")


async def _next_cursor(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: Any, **params: Any
) -> str:
    status, body = await _get(client, practice, headers, "Users", cursor="", count=1, **params)
    assert status == 200, body
    return str(body["nextCursor"])


async def test_bad_cursors_are_invalid_cursor(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    store: PiccoloStore,
    settings: Settings,
) -> None:
    await _users(client, practice, token_headers, 3)
    good = await _next_cursor(client, practice, token_headers)
    payload, _, mac = good.partition(".")
    tampered_payload = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    other = await new_practice(client, store, settings)
    other_headers = await bearer_headers(client, other)
    await _users(client, other, other_headers, 2)
    foreign = await _next_cursor(client, other, other_headers)
    filtered = await _next_cursor(client, practice, token_headers, filter='userName sw "u"')
    forged = CursorCodec([b"not the server key"]).issue(
        practice=uuid.UUID(practice.id),
        binding=query_binding("Users", None),
        position=CursorPosition((time_zero(), uuid.uuid4())),
        now=time.time(),
    )
    for bad in [
        "garbage",
        f"{tampered_payload}.{mac}",
        f"{payload}.{mac[:-2]}",
        forged,
        foreign,  # another practice's cursor, used with this practice's token
        filtered,  # a cursor of another query (another filter)
        "a.b.c",
    ]:
        status, body = await _get(client, practice, token_headers, "Users", cursor=bad, count=1)
        assert (status, body.get("scimType")) == (400, "invalidCursor"), (bad, body)
    # The right cursor with the right query still works.
    status, body = await _get(
        client, practice, token_headers, "Users", cursor=filtered, count=1, filter='userName sw "u"'
    )
    assert status == 200, body


def time_zero() -> datetime:
    return datetime(2020, 1, 1, tzinfo=UTC)


async def test_expired_cursor(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    store: PiccoloStore,
    settings: Settings,
) -> None:
    ids = await _users(client, practice, token_headers, 2)
    codec = await cursor_codec(Services.build(store, settings))
    old = codec.issue(
        practice=uuid.UUID(practice.id),
        binding=query_binding("Users", None),
        position=CursorPosition((time_zero(), uuid.UUID(ids[0]))),
        now=time.time() - CURSOR_TIMEOUT_SECONDS - 5,
    )
    status, body = await _get(client, practice, token_headers, "Users", cursor=old, count=1)
    assert (status, body.get("scimType")) == (400, "expiredCursor")
    fresh = codec.issue(
        practice=uuid.UUID(practice.id),
        binding=query_binding("Users", None),
        position=CursorPosition((time_zero(), uuid.UUID(ids[0]))),
        now=time.time(),
    )
    status, body = await _get(client, practice, token_headers, "Users", cursor=fresh, count=5)
    assert status == 200
    assert [r["id"] for r in body["Resources"]] == ids


@pytest.mark.parametrize(
    ("params", "scim_type"),
    [
        pytest.param({"cursor": "", "startIndex": 1}, "invalidValue", id="with-startIndex"),
        pytest.param({"cursor": "", "count": 0}, "invalidCount", id="count-zero"),
        pytest.param({"cursor": "", "count": -3}, "invalidCount", id="count-negative"),
        pytest.param({"cursor": "", "sortBy": "userName"}, "invalidValue", id="with-sortBy"),
    ],
)
async def test_request_errors(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    params: dict[str, Any],
    scim_type: str,
) -> None:
    status, body = await _get(client, practice, token_headers, "Users", **params)
    assert (status, body.get("scimType")) == (400, scim_type)


async def test_count_is_bounded_and_index_paging_unchanged(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    settings: Settings,
) -> None:
    ids = await _users(client, practice, token_headers, 3)
    huge = settings.max_page_size + 10
    status, body = await _get(client, practice, token_headers, "Users", cursor="", count=huge)
    assert status == 200
    assert len(body["Resources"]) == 3
    assert "nextCursor" not in body
    status, body = await _get(client, practice, token_headers, "Users", startIndex=2, count=1)
    assert status == 200
    assert body["startIndex"] == 2
    assert "nextCursor" not in body
    assert [r["id"] for r in body["Resources"]] == ids[1:2]


async def test_service_provider_config_advertises_cursors(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    status, body = await _get(client, practice, token_headers, "ServiceProviderConfig")
    assert status == 200
    assert body["pagination"] == {
        "cursor": True,
        "index": True,
        "defaultPaginationMethod": "index",
        "defaultPageSize": 100,
        "maxPageSize": body["pagination"]["maxPageSize"],
        "cursorTimeout": CURSOR_TIMEOUT_SECONDS,
    }


async def test_cursor_key_without_secret_key_is_kept_in_the_database(
    store: PiccoloStore, database_url: str
) -> None:
    """A development server (no SCIMLAB_SECRET_KEY) signs with a key the database keeps, so
    a restarted server (a new codec) reads the cursors of the old one."""
    settings = Settings(database_url=database_url)
    assert not settings.secret_keys
    practice, row = uuid.uuid4(), uuid.uuid4()
    binding = query_binding("Users", None)
    before = await cursor_codec(Services.build(store, settings))
    token = before.issue(
        practice=practice, binding=binding, position=CursorPosition((time_zero(), row)), now=1e9
    )
    after = await cursor_codec(Services.build(store, settings))
    read = after.read(token, practice=practice, binding=binding, now=1e9)
    assert read == CursorPosition((time_zero(), row))


async def test_root_search_refuses_a_cursor(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    """The root ``.search`` spans two resource types; it refuses a cursor rather than
    silently paging by index."""
    response = await client.post(
        f"{practice.scim_path}/.search",
        json={"schemas": [SEARCH_SCHEMA], "cursor": "", "count": 2},
        headers=token_headers,
    )
    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidValue"


async def _walk(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: Any,
    path: str,
    cursor: str,
    key: str,
    **params: Any,
) -> list[dict[str, Any]]:
    """Every page from ``cursor`` on, following ``key`` (nextCursor or previousCursor)."""
    pages = []
    while True:
        status, body = await _get(client, practice, headers, path, cursor=cursor, **params)
        assert status == 200, body
        pages.append(body)
        if key not in body:
            return pages
        cursor = body[key]


async def test_previous_cursor_walks_back_page_by_page(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    ids = await _users(client, practice, token_headers, 7)
    forward = await _walk(client, practice, token_headers, "Users", "", "nextCursor", count=3)
    assert [len(page["Resources"]) for page in forward] == [3, 3, 1]
    assert "previousCursor" not in forward[0]
    assert all("previousCursor" in page for page in forward[1:])
    back = await _walk(
        client,
        practice,
        token_headers,
        "Users",
        forward[-1]["previousCursor"],
        "previousCursor",
        count=3,
    )
    ids_of = [[r["id"] for r in page["Resources"]] for page in back]
    assert ids_of == [ids[3:6], ids[0:3]]  # each page in creation order, pages backwards
    assert all("nextCursor" in page and page["totalResults"] == 7 for page in back)
    assert "previousCursor" not in back[-1]  # back at the first page
    # The first page reached backwards leads forward again to the same second page.
    again = await _walk(
        client, practice, token_headers, "Users", back[-1]["nextCursor"], "nextCursor", count=3
    )
    assert [r["id"] for page in again for r in page["Resources"]] == ids[3:]
    # A selection of attributes (the scim2-models writer) carries the cursors too.
    status, body = await _get(
        client,
        practice,
        token_headers,
        "Users",
        cursor=forward[1]["previousCursor"],
        count=3,
        attributes="userName",
    )
    assert status == 200, body
    assert [r["id"] for r in body["Resources"]] == ids[0:3]
    assert "nextCursor" in body
    assert "previousCursor" not in body


async def test_groups_previous_cursor(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    groups = []
    for n in range(5):
        response = await client.post(
            f"{practice.scim_path}/Groups",
            json={"schemas": [GROUP_SCHEMA], "displayName": f"Back{n}"},
            headers=token_headers,
        )
        assert response.status_code == 201
        groups.append(response.json()["id"])
    forward = await _walk(client, practice, token_headers, "Groups", "", "nextCursor", count=2)
    assert [[g["id"] for g in page["Resources"]] for page in forward] == [
        groups[0:2],
        groups[2:4],
        groups[4:],
    ]
    back = await _walk(
        client,
        practice,
        token_headers,
        "Groups",
        forward[-1]["previousCursor"],
        "previousCursor",
        count=2,
    )
    assert [[g["id"] for g in page["Resources"]] for page in back] == [groups[2:4], groups[0:2]]
    assert {page["totalResults"] for page in forward + back} == {5}


async def test_total_is_counted_on_the_first_page_and_carried(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    """A later cursor page answers the total its walk counted on the first page (no COUNT
    per page); a new walk counts again."""
    await _users(client, practice, token_headers, 4)
    status, first = await _get(client, practice, token_headers, "Users", cursor="", count=2)
    assert status == 200
    assert first["totalResults"] == 4
    await _users(client, practice, token_headers, 1)
    status, second = await _get(
        client, practice, token_headers, "Users", cursor=first["nextCursor"], count=2
    )
    assert status == 200
    assert second["totalResults"] == 4
    assert len(second["Resources"]) == 2
    status, fresh = await _get(client, practice, token_headers, "Users", cursor="", count=2)
    assert fresh["totalResults"] == 5


async def test_deep_pages_both_ways_while_users_come_and_go(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    """Forward to the end and back to the start, a user deleted and one added between every
    two pages: each user present throughout is seen exactly once each way."""
    ids = await _users(client, practice, token_headers, 30)
    doomed = iter(ids[2::4])
    gone: set[str] = set()

    async def churn() -> None:
        victim = next(doomed, None)
        if victim is not None:
            response = await client.delete(
                f"{practice.scim_path}/Users/{victim}", headers=token_headers
            )
            assert response.status_code == 204
            gone.add(victim)
        await _add_user(client, practice, token_headers)

    cursor, skipped = "", set[str]()
    for key in ("nextCursor", "previousCursor"):
        seen: list[str] = []
        while True:
            status, body = await _get(
                client, practice, token_headers, "Users", cursor=cursor, count=3
            )
            assert status == 200, body
            seen += [r["id"] for r in body["Resources"]]
            await churn()
            if key not in body:
                break
            cursor = body[key]
        assert len(seen) == len(set(seen)), f"a user was seen twice walking by {key}"
        present_throughout = {i for i in ids if i not in gone} - skipped
        assert present_throughout <= set(seen), f"a user was skipped walking by {key}"
        if key == "nextCursor":  # the walk back starts from the last page's previous cursor
            cursor, skipped = body["previousCursor"], {r["id"] for r in body["Resources"]}


def test_first_version_cursors_are_still_read() -> None:
    """A cursor issued before totals and directions were carried (version 1) still reads,
    as a forward position whose walk counts its total again."""
    key = b"a test key"
    practice, row = uuid.uuid4(), uuid.uuid4()
    binding = query_binding("Users", None)
    fields = [1, str(practice), binding, int(time.time()), time_zero().isoformat(), str(row)]
    payload = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode()
    mac = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    token = f"{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    read = CursorCodec([key]).read(token, practice=practice, binding=binding, now=time.time())
    assert read == CursorPosition((time_zero(), row), backward=False, total=None)


async def test_a_known_total_is_not_counted(store: PiccoloStore) -> None:
    """Given the total a walk already has, the repositories answer it without counting."""
    nobody = uuid.uuid4()
    query = ResourceQuery(limit=3, after=(time_zero(), uuid.uuid4()), known_total=123)
    assert await store.staff.list_scim(nobody, query) == (123, [])
    assert await store.groups.search(nobody, query, with_members=False) == (123, [])
    assert await store.staff.list_scim(nobody, ResourceQuery(limit=3)) == (0, [])


@pytest.mark.parametrize("backward", [False, True], ids=["next", "previous"])
async def test_cursor_pages_are_range_reads_of_the_creation_index(
    store: PiccoloStore, practice: PracticeFixture, backward: bool
) -> None:
    """A cursor page, either way, is a range of ``(practice_id, created_at, id)`` read in
    index order: no scan of the practice's earlier rows and no sort, however deep. (On
    PostgreSQL sequential scans and sorts are priced out, so the plan shows whether the index
    can answer the query at all, whatever the table's size.)"""
    direct = store.direct
    await seed_users(store, uuid.UUID(practice.id), 200)
    edge = (time_zero(), uuid.uuid4())
    query = ResourceQuery(after=None if backward else edge, before=edge if backward else None)
    position, ordering = keyset(query, sqlite=direct.sqlite)
    assert position is not None
    page = QueryString(
        f"SELECT * FROM staff_user WHERE practice_id = {{}} AND {{}} ORDER BY {ordering} LIMIT 11",  # noqa: S608 - ordering comes from a fixed column table
        direct.argument(uuid.UUID(practice.id)),
        position,
    )
    if direct.sqlite:
        plan = " ".join(
            str(row["detail"])
            for row in await direct.fetch_query(QueryString("EXPLAIN QUERY PLAN {}", page))
        )
        assert "USING INDEX staff_user_practice_created" in plan, plan
        assert "(created_at,id)" in plan, plan  # the position bounds the index search
        assert "TEMP B-TREE" not in plan, plan  # and the index gives the order
        return
    async with store.transaction():
        await direct.fetch_query(QueryString("SET LOCAL enable_seqscan = off"))
        await direct.fetch_query(QueryString("SET LOCAL enable_sort = off"))
        rows = await direct.fetch_query(QueryString("EXPLAIN {}", page))
    plan = "\n".join(str(next(iter(row.values()))) for row in rows)
    assert "staff_user_practice_created" in plan, plan
    assert "ROW(created_at, id)" in plan, plan
    assert "Sort" not in plan, plan
