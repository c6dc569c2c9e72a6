"""One person, one userName (and one email), whatever the Unicode form the identity provider
sends: uniqueness and ``eq`` filters compare ``text_key``, on both databases, and the userName
stored and returned stays byte for byte what was sent."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from server.mapping.emails import normalized_email
from tests.look_alikes import DISTINCT, SAME

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from tests.conftest import PracticeFixture

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
DOMAIN = "@clinic.example"


def _user(user_name: str, email: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [USER_SCHEMA], "userName": user_name}
    if email is not None:
        body["emails"] = [{"value": email, "type": "work", "primary": True}]
    return body


async def _post(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str], body: Any
) -> Any:
    # Sent as raw UTF-8 so the bytes the server gets are exactly the test's (no re-encoding).
    content = json.dumps(body, ensure_ascii=False).encode()
    return await client.post(f"{practice.scim_path}/Users", content=content, headers=headers)


async def _found(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str], test: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"{practice.scim_path}/Users", params={"filter": test}, headers=headers
    )
    assert response.status_code == 200, response.text
    return list(response.json().get("Resources", []))


def _quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize("swap", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize(("first", "second"), SAME)
async def test_a_look_alike_user_name_is_the_same_account(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    first: str,
    second: str,
    swap: bool,
) -> None:
    if swap:
        first, second = second, first
    first, second = first + DOMAIN, second + DOMAIN
    created = await _post(client, practice, token_headers, _user(first))
    assert created.status_code == 201, created.text
    assert created.json()["userName"].encode() == first.encode()

    again = await _post(client, practice, token_headers, _user(second))
    assert again.status_code == 409, again.text
    assert again.json()["scimType"] == "uniqueness"

    found = await _found(client, practice, token_headers, f"userName eq {_quoted(second)}")
    assert [(u["id"], u["userName"].encode()) for u in found] == [
        (created.json()["id"], first.encode())
    ]
    read = await client.get(
        f"{practice.scim_path}/Users/{created.json()['id']}", headers=token_headers
    )
    assert read.json()["userName"].encode() == first.encode()


@pytest.mark.parametrize(("first", "second"), DISTINCT)
async def test_different_user_names_are_different_accounts(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    first: str,
    second: str,
) -> None:
    ids = {}
    for name in (first + DOMAIN, second + DOMAIN):
        created = await _post(client, practice, token_headers, _user(name))
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]
    for name, user_id in ids.items():
        found = await _found(client, practice, token_headers, f"userName eq {_quoted(name)}")
        assert [u["id"] for u in found] == [user_id]


@pytest.mark.parametrize(("first", "second"), SAME)
async def test_a_look_alike_email_is_the_same_email(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    first: str,
    second: str,
) -> None:
    first, second = first + DOMAIN, second + DOMAIN
    created = await _post(client, practice, token_headers, _user("one", first))
    assert created.status_code == 201, created.text
    # Kept as scim2-models' Email keeps it (server.mapping.emails), not as its key.
    kept = normalized_email(first)
    assert created.json()["emails"][0]["value"].encode() == kept.encode()

    for test in (f"emails.value eq {_quoted(second)}", f"emails eq {_quoted(second)}"):
        found = await _found(client, practice, token_headers, test)
        assert [(u["id"], u["emails"][0]["value"].encode()) for u in found] == [
            (created.json()["id"], kept.encode())
        ]
    taken = await _post(client, practice, token_headers, _user("two", second))
    assert taken.status_code == 409, taken.text
    assert taken.json()["scimType"] == "uniqueness"


@pytest.mark.parametrize(("first", "second"), DISTINCT)
async def test_different_emails_are_different_emails(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    first: str,
    second: str,
) -> None:
    first, second = first + DOMAIN, second + DOMAIN
    one = await _post(client, practice, token_headers, _user("one", first))
    two = await _post(client, practice, token_headers, _user("two", second))
    assert (one.status_code, two.status_code) == (201, 201), two.text
    found = await _found(client, practice, token_headers, f"emails.value eq {_quoted(second)}")
    assert [u["id"] for u in found] == [two.json()["id"]]


async def test_the_practice_admin_holds_admin_in_every_width(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    # create_practice makes the account "admin"; its fullwidth form is the same userName.
    taken = await _post(client, practice, token_headers, _user("\uff41\uff44\uff4d\uff49\uff4e"))
    assert taken.status_code == 409, taken.text


@pytest.mark.parametrize(
    "user_name",
    [
        pytest.param("\u00df" * 256, id="sharp-s-folds-to-512"),
        pytest.param("\ufdfa" * 20, id="one-character-becomes-18"),
    ],
)
async def test_a_key_longer_than_its_value_is_stored(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    user_name: str,
) -> None:
    # The key columns are text (m0103): PostgreSQL's varchar(256) answered 500 here.
    created = await _post(client, practice, token_headers, _user(user_name))
    assert created.status_code == 201, created.text
    assert created.json()["userName"] == user_name
    found = await _found(client, practice, token_headers, f"userName eq {_quoted(user_name)}")
    assert [u["id"] for u in found] == [created.json()["id"]]


async def test_a_look_alike_group_display_name_is_the_same_group(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    url = f"{practice.scim_path}/Groups"
    for name, status in (("\uff34eam \u0130", 201), ("team i", 409), ("team \u0131", 201)):
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name}
        content = json.dumps(body, ensure_ascii=False).encode()
        answer = await client.post(url, content=content, headers=token_headers)
        assert answer.status_code == status, (name, answer.text)


@pytest.mark.parametrize("how", ["patch", "put"])
async def test_renaming_to_a_look_alike_of_another_account_is_refused(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    token_headers: dict[str, str],
    how: str,
) -> None:
    taken = await _post(client, practice, token_headers, _user("jos\u00e9" + DOMAIN))
    other = await _post(client, practice, token_headers, _user("other" + DOMAIN))
    assert (taken.status_code, other.status_code) == (201, 201)
    url = f"{practice.scim_path}/Users/{other.json()['id']}"
    look_alike = "JOSE\u0301" + DOMAIN
    if how == "patch":
        body: dict[str, Any] = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "userName", "value": look_alike}],
        }
        answer = await client.patch(url, json=body, headers=token_headers)
    else:
        answer = await client.put(url, json=_user(look_alike), headers=token_headers)
    assert answer.status_code == 409, answer.text
    unchanged = await client.get(url, headers=token_headers)
    assert unchanged.json()["userName"] == "other" + DOMAIN
