"""The PATCH shortcut (``PlainPatch``) changes and answers as ``UsersController.modify``.

Each body is sent to two users created alike: to one as it is (the shortcut answers) and to
the other with a ``Prefer`` header that changes nothing (RFC 7240), which sends it on to the
handler. Status, headers and body must agree but for what differs between the two users, and
what was answered must be what was kept.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any, cast

import pytest

import server.scim.users
from server.scim.shortcuts import PlainPatch
from tests.conftest import PracticeFixture, bearer_headers, new_practice

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.settings import Settings

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
TO_HANDLER = {"Prefer": "handling=lenient"}


def _patch(*operations: Any) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


@pytest.fixture
async def headers(client: AsyncTestClient[Any], practice: PracticeFixture) -> dict[str, str]:
    return await bearer_headers(client, practice)


async def _user(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str], name: str
) -> str:
    body = {
        "schemas": [USER_SCHEMA],
        "userName": f"{name}@example.org",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": f"{name}@example.org", "type": "work", "primary": True}],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "mobile"}],
    }
    response = await client.post(f"{practice.scim_path}/Users", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _shape(response: Any) -> tuple[int, dict[str, str], Any]:
    """An answer without what differs between the two users (id, names, times)."""
    varying = {"x-request-id", "content-length"}
    headers = {k: v for k, v in response.headers.items() if k not in varying}
    if response.status_code >= 400:
        body = response.json()
        body.pop("requestId", None)
        return (
            response.status_code,
            headers,
            json.dumps(body).replace(response.headers["x-request-id"], "ID"),
        )
    assert int(response.headers["content-length"]) == len(response.content)
    body = response.json()
    body |= {"id": "ID", "userName": "U"}
    body["meta"] |= {"created": "T", "lastModified": "T", "location": "L"}
    for email in body.get("emails", []):
        email["value"] = "E"
    return response.status_code, headers, body


BODIES = {
    "Entra's attribute replace": _patch(
        {"op": "Replace", "path": "name.givenName", "value": "Grace"},
        {"op": "Replace", "path": "name.familyName", "value": "Hopper"},
    ),
    "Entra's deactivation, a string": _patch({"op": "Replace", "path": "active", "value": "False"}),
    "Okta's path-less deactivation": _patch({"op": "replace", "value": {"active": False}}),
    "a filtered remove (the full path)": _patch(
        {"op": "remove", "path": 'phoneNumbers[type eq "mobile"]'}
    ),
    "an ignored attribute": _patch({"op": "Add", "path": "title", "value": "Nurse"}),
    "a change to nothing": _patch({"op": "replace", "path": "name.givenName", "value": "Ada"}),
}


@pytest.mark.parametrize("name", list(BODIES))
async def test_patches_answer_as_the_handler_does(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    name: str,
) -> None:
    tag = uuid.uuid4().hex[:8]
    plain_id = await _user(client, practice, headers, f"plain.{tag}")
    handled_id = await _user(client, practice, headers, f"handled.{tag}")
    base = f"{practice.scim_path}/Users"
    plain = await client.patch(f"{base}/{plain_id}", json=BODIES[name], headers=headers)
    handled = await client.patch(
        f"{base}/{handled_id}", json=BODIES[name], headers={**headers, **TO_HANDLER}
    )
    assert plain.status_code == 200, plain.text
    assert _shape(plain) == _shape(handled)
    kept = await client.get(f"{base}/{plain_id}", headers={**headers, **TO_HANDLER})
    assert kept.json() == plain.json()
    assert kept.headers["etag"] == plain.headers["etag"]


async def test_patch_refusals_answer_as_the_handler_does_and_change_nothing(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    settings: Settings,
    practice: PracticeFixture,
    headers: dict[str, str],
) -> None:
    other = await new_practice(client, store, settings)
    theirs_headers = await bearer_headers(client, other)
    theirs = await _user(client, other, theirs_headers, f"theirs.{uuid.uuid4().hex[:8]}")
    mine = await _user(client, practice, headers, f"mine.{uuid.uuid4().hex[:8]}")
    before = await client.get(f"{practice.scim_path}/Users/{mine}", headers=headers)
    deactivate = json.dumps(_patch({"op": "replace", "path": "active", "value": False}))
    cases: dict[str, tuple[str, dict[str, str], bytes, int]] = {
        "not JSON": (mine, headers, b"{nope", 400),
        "not an object": (mine, headers, b"[1]", 400),
        "not JSON media": (mine, {**headers, "Content-Type": "text/plain"}, b"{}", 415),
        "no operations": (mine, headers, json.dumps({"schemas": [PATCH_SCHEMA]}).encode(), 400),
        "an unknown op": (
            mine,
            headers,
            json.dumps(_patch({"op": "move", "path": "active", "value": False})).encode(),
            400,
        ),
        "id is read-only": (
            mine,
            headers,
            json.dumps(_patch({"op": "replace", "path": "id", "value": "x"})).encode(),
            400,
        ),
        "not a boolean": (
            mine,
            headers,
            json.dumps(_patch({"op": "replace", "path": "active", "value": "maybe"})).encode(),
            400,
        ),
        "unknown user": (str(uuid.uuid4()), headers, deactivate.encode(), 404),
        "not a uuid": ("not-a-uuid", headers, deactivate.encode(), 404),
        "another practice's user": (theirs, headers, deactivate.encode(), 404),
        "unknown token": (mine, {"Authorization": "Bearer forged"}, deactivate.encode(), 401),
    }
    for name, (user_id, given, content, status) in cases.items():
        path = f"{practice.scim_path}/Users/{user_id}"
        sent = {"Content-Type": "application/scim+json", **given}
        plain = await client.patch(path, content=content, headers=sent)
        handled = await client.patch(path, content=content, headers={**sent, **TO_HANDLER})
        assert plain.status_code == status, (name, plain.text)
        assert _shape(plain) == _shape(handled), name
    after = await client.get(f"{practice.scim_path}/Users/{mine}", headers=headers)
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]
    kept = await client.get(f"{other.scim_path}/Users/{theirs}", headers=theirs_headers)
    assert kept.json()["active"] is True


async def test_plain_patches_never_reach_the_handler(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user_id = await _user(client, practice, headers, f"bypass.{uuid.uuid4().hex[:8]}")

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the handler answered")

    monkeypatch.setattr(server.scim.users, "_respond", broken)
    path = f"{practice.scim_path}/Users/{user_id}"
    body = _patch({"op": "replace", "path": "active", "value": False})
    plain = await client.patch(path, json=body, headers=headers)
    assert plain.status_code == 200
    assert plain.json()["active"] is False
    again = await client.patch(path, json=body, headers={**headers, **TO_HANDLER})
    assert again.status_code == 500  # the same PATCH through the handler did reach it
    guarded = {**headers, "If-Match": plain.headers["etag"]}
    assert (await client.patch(path, json=body, headers=guarded)).status_code == 500


BEARER = (b"authorization", b"Bearer abc")


@pytest.mark.parametrize(
    ("query", "headers", "taken"),
    [
        (b"", [BEARER], True),
        (b"", [BEARER, (b"content-type", b"application/scim+json")], True),
        (b"", [BEARER, (b"if-match", b'W/"1"')], False),
        (b"", [(b"if-match", b"*"), BEARER], False),
        (b"", [BEARER, (b"if-none-match", b'W/"1"')], False),
        (b"", [BEARER, (b"prefer", b"return=minimal")], False),
        (b"attributes=userName", [BEARER], False),
        (b"", [(b"authorization", b"Basic YTpi")], False),
    ],
)
def test_which_patches_the_shortcut_takes(
    query: bytes, headers: list[tuple[bytes, bytes]], taken: bool
) -> None:
    scope = cast("Any", {"query_string": query, "headers": headers})
    assert PlainPatch(app=cast("Any", None)).takes(scope) is taken
