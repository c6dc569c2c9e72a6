"""The plain read by id (``server.scim.plain_read``) answers as the ``read`` handler does.

Each request is sent twice: as it is (the middleware answers it) and with a ``Prefer``
header that changes nothing in the answer (RFC 7240 lets a server ignore it) but sends the
request on to the handler. Status, headers (but the request id) and body must agree.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

import pytest

import server.scim.users
from server.scim.plain_read import plain_bearer_token
from tests.conftest import PracticeFixture, fetch_token, new_practice

if TYPE_CHECKING:
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
    return {"Authorization": f"Bearer {await fetch_token(client, practice)}"}


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
        {"Authorization": f"Bearer {await fetch_token(client, other)}"},
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


async def test_plain_reads_never_reach_the_handler(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user_id = await _created(client, practice, headers, _user("bypass@example.org"))

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the handler answered")

    monkeypatch.setattr(server.scim.users, "_respond", broken)
    plain, handled = await _both_ways(client, f"{practice.scim_path}/Users/{user_id}", headers)
    assert plain.status_code == 200
    assert plain.json()["userName"] == "bypass@example.org"
    assert handled.status_code == 500  # the same read through the handler did reach it


@pytest.mark.parametrize(
    ("query", "headers", "token"),
    [
        (b"", [(b"authorization", b"Bearer abc")], "abc"),
        (b"", [(b"authorization", b"bearer  abc ")], "abc"),
        (b"", [(b"host", b"x"), (b"authorization", b"BEARER abc")], "abc"),
        (b"attributes=userName", [(b"authorization", b"Bearer abc")], None),
        (b"", [(b"authorization", b"Bearer abc"), (b"if-none-match", b'W/"1"')], None),
        (b"", [(b"prefer", b"return=minimal"), (b"authorization", b"Bearer abc")], None),
        (b"", [(b"authorization", b"Basic YTpi")], None),
        (b"", [(b"authorization", b"Bearer ")], None),
        (b"", [(b"authorization", b"Bearer")], None),
        (b"", [], None),
    ],
)
def test_which_reads_are_plain(
    query: bytes, headers: list[tuple[bytes, bytes]], token: str | None
) -> None:
    scope = cast("Any", {"query_string": query, "headers": headers})
    assert plain_bearer_token(scope) == token
