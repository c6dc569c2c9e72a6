"""The shortcuts (``server.scim.shortcuts``) answer plain reads by id and creates as the
``read`` and ``create`` handlers do.

Each request is sent twice: as it is (the shortcut answers it) and with a ``Prefer`` header
that changes nothing in the answer (RFC 7240 lets a server ignore it) but sends the request
on to the handler. Status, headers (but the request id) and body must agree.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import server.scim.users
from server.scim.shortcuts import PlainCreate, PlainRead, PlainSearch, _parameter_names
from tests.conftest import PracticeFixture, bearer_headers, new_practice

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.settings import Settings

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
TO_HANDLER = {"Prefer": "handling=lenient"}


def _user(user_name: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [USER_SCHEMA], "userName": user_name, **extra}


async def _created(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str], body: Any
) -> str:
    response = await client.post(f"{practice.scim_path}/Users", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _both_ways(
    client: AsyncTestClient[Any], path: str, headers: dict[str, str]
) -> tuple[Any, Any]:
    plain = await client.get(path, headers=headers)
    handled = await client.get(path, headers={**headers, **TO_HANDLER})
    return plain, handled


def _assert_alike(plain: Any, handled: Any) -> None:
    assert plain.status_code == handled.status_code
    ours = {k: v for k, v in plain.headers.items() if k != "x-request-id"}
    theirs = {k: v for k, v in handled.headers.items() if k != "x-request-id"}
    assert ours == theirs
    if plain.status_code < 400:
        assert plain.content == handled.content
    else:  # error bodies carry their own request id
        strip = plain.headers["x-request-id"], handled.headers["x-request-id"]
        assert plain.text.replace(strip[0], "ID") == handled.text.replace(strip[1], "ID")


@pytest.fixture
async def headers(client: AsyncTestClient[Any], practice: PracticeFixture) -> dict[str, str]:
    return await bearer_headers(client, practice)


async def test_reads_answer_as_the_handler_does(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str]
) -> None:
    full = _user(
        "plain.full@example.org",
        externalId="ext-1",
        name={"givenName": "Ada", "familyName": "Lovelace"},
        emails=[{"value": "ada@example.org", "type": "work", "primary": True}],
        phoneNumbers=[{"value": "+1 555 0100", "type": "mobile"}],
    )
    ids = [
        await _created(client, practice, headers, full),
        await _created(client, practice, headers, _user("plain.bare@example.org")),
        await _created(client, practice, headers, _user("plain.off@example.org", active=False)),
    ]
    for name in ("Zeta", "alpha"):  # two groups, so their order shows
        group = {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": ids[0]}]}
        created = await client.post(f"{practice.scim_path}/Groups", json=group, headers=headers)
        assert created.status_code == 201, created.text
    for user_id in ids:
        plain, handled = await _both_ways(client, f"{practice.scim_path}/Users/{user_id}", headers)
        assert plain.status_code == 200, plain.text
        _assert_alike(plain, handled)
    first = (await client.get(f"{practice.scim_path}/Users/{ids[0]}", headers=headers)).json()
    assert [g["display"] for g in first["groups"]] == ["alpha", "Zeta"]


async def test_refusals_answer_as_the_handler_does(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    settings: Settings,
    practice: PracticeFixture,
    headers: dict[str, str],
) -> None:
    other = await new_practice(client, store, settings)
    theirs = await _created(
        client,
        other,
        await bearer_headers(client, other),
        _user("theirs@example.org"),
    )
    gone = await _created(client, practice, headers, _user("gone@example.org"))
    deleted = await client.delete(f"{practice.scim_path}/Users/{gone}", headers=headers)
    assert deleted.status_code == 204
    cases = {
        "unknown user": (f"/Users/{uuid.uuid4()}", headers, 404),
        "not a uuid": ("/Users/not-a-uuid", headers, 404),
        "deleted user": (f"/Users/{gone}", headers, 404),
        "another practice's user": (f"/Users/{theirs}", headers, 404),
        "unknown token": (f"/Users/{gone}", {"Authorization": "Bearer forged"}, 401),
        "another practice's token": (
            f"/Users/{theirs}",
            {"Authorization": headers["Authorization"]},
            401,
        ),
    }
    for name, (path, sent, status) in cases.items():
        base = other.scim_path if name == "another practice's token" else practice.scim_path
        plain, handled = await _both_ways(client, base + path, sent)
        assert plain.status_code == status, (name, plain.text)
        _assert_alike(plain, handled)


async def _raw_get(app: Litestar, path: str, headers: list[tuple[bytes, bytes]]) -> Any:
    """A GET straight into the app, so headers reach it as sent (the test client joins
    repeated headers into one). Run in the client's portal: the app's loop."""
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            answer["body"] += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"scimlab.test"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    return answer


async def test_the_first_of_two_authorization_headers_counts_as_in_the_handler(
    app: Litestar,
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
) -> None:
    user_id = await _created(client, practice, headers, _user("two.headers@example.org"))
    path = f"{practice.scim_path}/Users/{user_id}"
    valid, forged = headers["Authorization"].encode(), b"Bearer forged"
    for first, second, status in ((valid, forged, 200), (forged, valid, 401)):
        sent = [(b"authorization", first), (b"authorization", second)]
        portal = client.blocking_portal
        plain = await asyncio.to_thread(portal.call, _raw_get, app, path, sent)
        lenient = [*sent, (b"prefer", b"handling=lenient")]
        handled = await asyncio.to_thread(portal.call, _raw_get, app, path, lenient)
        assert plain["status"] == handled["status"] == status, plain["body"]
        plain["headers"].pop("x-request-id")
        handled["headers"].pop("x-request-id")
        assert plain["headers"] == handled["headers"]
        if status == 200:
            assert plain["body"] == handled["body"]


async def test_searches_answer_as_the_handler_does(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str]
) -> None:
    ids = [
        await _created(client, practice, headers, _user(f"search{i}@example.org", active=i != 1))
        for i in range(4)
    ]
    group = {"schemas": [GROUP_SCHEMA], "displayName": "Nurses", "members": [{"value": ids[2]}]}
    created = await client.post(f"{practice.scim_path}/Groups", json=group, headers=headers)
    assert created.status_code == 201, created.text
    queries = {
        "everyone": ("", 200),
        "by userName": ('?filter=userName eq "SEARCH2@example.org"', 200),
        "no one": ('?filter=userName eq "nobody@example.org"', 200),
        "a page": ("?startIndex=2&count=2&sortBy=userName&sortOrder=descending", 200),
        "a compound filter": ('?filter=active eq false or userName sw "search3"', 200),
        "no page": ("?count=0", 200),
        "a bad filter": ("?filter=userName zz 1", 400),
        "a bad order": ("?sortOrder=sideways", 400),
        "a bad start": ("?startIndex=first", 400),
    }
    for name, (query, status) in queries.items():
        path = f"{practice.scim_path}/Users{query}"
        plain, handled = await _both_ways(client, path, headers)
        assert plain.status_code == status, (name, plain.text)
        _assert_alike(plain, handled)
    found = (await client.get(f"{practice.scim_path}/Users", headers=headers)).json()
    assert found["totalResults"] == 4
    [nurse] = [u for u in found["Resources"] if u["id"] == ids[2]]
    assert [g["display"] for g in nurse["groups"]] == ["Nurses"]
    forged = {"Authorization": "Bearer forged"}
    plain, handled = await _both_ways(client, f"{practice.scim_path}/Users?count=1", forged)
    assert plain.status_code == 401
    _assert_alike(plain, handled)


def _created_shape(response: Any) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """A create's answer without what differs between two creates (id, time, names)."""
    body = response.json()
    location = body["meta"]["location"]
    assert response.headers["location"] == location
    assert location.endswith(f"/Users/{body['id']}")
    assert int(response.headers["content-length"]) == len(response.content)
    varying = {"x-request-id", "location", "content-length"}
    headers = {k: v for k, v in response.headers.items() if k not in varying}
    body["meta"] |= {"created": "T", "lastModified": "T", "location": "L"}
    body["emails"][0]["value"] = "E"
    return response.status_code, headers, body | {"id": "ID", "userName": "U"}


async def test_creates_answer_as_the_handler_does(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str]
) -> None:
    entra_like = {
        "externalId": "ext-9",
        "active": True,
        "name": {"givenName": "Grace", "familyName": "Hopper", "formatted": "Grace Hopper"},
        "phoneNumbers": [{"value": "+1 555 0101", "type": "mobile"}],
        "title": "ignored",
    }
    shapes = []
    for way, extra in (("plain", {}), ("handled", TO_HANDLER)):
        emails = [{"value": f"{way}@example.org", "type": "work", "primary": True}]
        body = _user(f"{way}.create@example.org", emails=emails, **entra_like)
        response = await client.post(
            f"{practice.scim_path}/Users", json=body, headers={**headers, **extra}
        )
        assert response.status_code == 201, response.text
        shapes.append(_created_shape(response))
        read = await client.get(response.headers["location"], headers={**headers, **TO_HANDLER})
        assert read.json() == response.json()  # what was answered is what was kept
        assert read.headers["etag"] == response.headers["etag"]
    assert shapes[0] == shapes[1]


async def test_create_refusals_answer_as_the_handler_does_and_keep_nothing(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str]
) -> None:
    await _created(client, practice, headers, _user("taken@example.org"))
    cases: dict[str, tuple[dict[str, str], bytes, int]] = {
        "not JSON": (headers, b"{nope", 400),
        "not an object": (headers, b"[1, 2]", 400),
        "not JSON media": ({**headers, "Content-Type": "text/plain"}, b"{}", 415),
        "no userName": (headers, b'{"schemas": ["%s"]}' % USER_SCHEMA.encode(), 400),
        "active not a boolean": (
            headers,
            json.dumps(_user("kept.out@example.org", active="maybe")).encode(),
            400,
        ),
        "taken userName": (headers, json.dumps(_user("Taken@example.org")).encode(), 409),
        "unknown token": (
            {"Authorization": "Bearer forged"},
            json.dumps(_user("kept.out@example.org")).encode(),
            401,
        ),
        "too large": (headers, b'{"userName": "%s"}' % (b"x" * (2 << 20)), 413),
    }
    for name, (sent, content, status) in cases.items():
        path = f"{practice.scim_path}/Users"
        plain = await client.post(path, content=content, headers=sent)
        handled = await client.post(path, content=content, headers={**sent, **TO_HANDLER})
        assert plain.status_code == status, (name, plain.text)
        _assert_alike(plain, handled)
    listed = await client.get(f"{practice.scim_path}/Users", headers=headers)
    assert [u["userName"] for u in listed.json()["Resources"]] == ["taken@example.org"]


async def test_plain_requests_never_reach_the_handler(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user_id = await _created(client, practice, headers, _user("bypass@example.org"))

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the handler answered")

    monkeypatch.setattr(server.scim.users, "_respond", broken)
    monkeypatch.setattr(server.scim.users, "_listing", broken)
    plain, handled = await _both_ways(client, f"{practice.scim_path}/Users/{user_id}", headers)
    assert plain.status_code == 200
    assert plain.json()["userName"] == "bypass@example.org"
    assert handled.status_code == 500  # the same read through the handler did reach it
    listed = await client.get(f"{practice.scim_path}/Users?count=5", headers=headers)
    assert listed.status_code == 200
    assert listed.json()["Resources"][0]["userName"] == "bypass@example.org"
    path = f"{practice.scim_path}/Users?count=5"
    assert (await client.get(path, headers={**headers, **TO_HANDLER})).status_code == 500
    path, body = f"{practice.scim_path}/Users", _user("bypass.create@example.org")
    created = await client.post(path, json=body, headers=headers)
    assert created.status_code == 201
    body = _user("bypass.handled@example.org")
    refused = await client.post(path, json=body, headers={**headers, **TO_HANDLER})
    assert refused.status_code == 500


BEARER = (b"authorization", b"Bearer abc")


@pytest.mark.parametrize(
    ("shortcut", "query", "headers", "taken"),
    [
        (PlainRead, b"", [BEARER], True),
        (PlainRead, b"", [(b"authorization", b"bearer  abc ")], True),
        (PlainRead, b"", [(b"host", b"x"), (b"authorization", b"BEARER abc")], True),
        (PlainRead, b"attributes=userName", [BEARER], False),
        (PlainCreate, b"x=1", [BEARER], False),
        (PlainRead, b"", [BEARER, (b"if-none-match", b'W/"1"')], False),
        (PlainCreate, b"", [(b"prefer", b"return=minimal"), BEARER], False),
        (PlainRead, b"", [(b"authorization", b"Basic YTpi")], False),
        (PlainRead, b"", [(b"authorization", b"Bearer ")], False),
        (PlainRead, b"", [(b"authorization", b"Bearer")], False),
        (PlainRead, b"", [], False),
        (PlainRead, b"", [BEARER, (b"authorization", b"Basic YTpi")], True),
        (PlainRead, b"", [(b"authorization", b"Basic YTpi"), BEARER], False),
        (PlainSearch, b"", [BEARER], True),
        (PlainSearch, b'filter=userName+eq+"a"&startIndex=2&count=5', [BEARER], True),
        (PlainSearch, b"sortBy=userName&attributes=", [BEARER], False),
        (PlainSearch, b"excludedAttributes=emails", [BEARER], False),
        (PlainSearch, b"%61ttributes=userName", [BEARER], False),
        (PlainSearch, b"count=1&excluded%41ttributes", [BEARER], False),
        (PlainSearch, b"filter=attributes+eq+%22x%22&x=attributes", [BEARER], True),
        (PlainSearch, b"count=1", [(b"authorization", b"Basic YTpi")], False),
    ],
)
def test_which_requests_a_shortcut_takes(
    shortcut: type[Any], query: bytes, headers: list[tuple[bytes, bytes]], taken: bool
) -> None:
    scope = cast("Any", {"query_string": query, "headers": headers})
    assert shortcut(app=None).takes(scope) is taken


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aex%=&+4161Att;", max_size=24))
def test_parameter_names_are_the_ones_litestar_reads(query: str) -> None:
    litestar_names = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
    assert _parameter_names(query) - {""} == litestar_names - {""}
