"""RFC 9865 cursor paging of ``/Users`` and ``/Groups`` over HTTP, on both databases."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from server.scim.cursors import CURSOR_TIMEOUT_SECONDS, CursorCodec, cursor_codec, query_binding
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
        position=(time_zero(), uuid.uuid4()),
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
        position=(time_zero(), uuid.UUID(ids[0])),
        now=time.time() - CURSOR_TIMEOUT_SECONDS - 5,
    )
    status, body = await _get(client, practice, token_headers, "Users", cursor=old, count=1)
    assert (status, body.get("scimType")) == (400, "expiredCursor")
    fresh = codec.issue(
        practice=uuid.UUID(practice.id),
        binding=query_binding("Users", None),
        position=(time_zero(), uuid.UUID(ids[0])),
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
    token = before.issue(practice=practice, binding=binding, position=(time_zero(), row), now=1e9)
    after = await cursor_codec(Services.build(store, settings))
    assert after.read(token, practice=practice, binding=binding, now=1e9) == (time_zero(), row)


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
