"""Who may call the SCIM endpoint (RFC 7644 §2, RFC 6750 §3), and that tenants never mix."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import PracticeFixture, fetch_token, new_practice

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.settings import Settings

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def _user(name: str) -> dict[str, Any]:
    return {"schemas": [USER_SCHEMA], "userName": name}


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        (None, 'Bearer realm="scim"'),
        ("Bearer not-a-token", 'Bearer realm="scim", error="invalid_token"'),
        ("Bearer ", 'Bearer realm="scim"'),
        ("Basic !!!", 'Basic realm="scim"'),
        ("Digest abc", 'Bearer realm="scim"'),
    ],
    ids=["missing", "unknown-token", "empty-bearer", "malformed-basic", "other-scheme"],
)
async def test_bad_credentials_get_401_with_scim_error(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    authorization: str | None,
    challenge: str,
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.get(f"{practice.scim_path}/Users", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == "401"


async def test_http_basic_with_client_credentials_is_accepted(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    raw = base64.b64encode(f"{practice.client_id}:{practice.client_secret}".encode()).decode()
    response = await client.post(
        f"{practice.scim_path}/Users",
        json=_user("basic.user@example.org"),
        headers={"Authorization": f"Basic {raw}"},
    )
    assert response.status_code == 201
    wrong = base64.b64encode(f"{practice.client_id}:nope".encode()).decode()
    refused = await client.get(
        f"{practice.scim_path}/Users", headers={"Authorization": f"Basic {wrong}"}
    )
    assert refused.status_code == 401


async def test_one_practice_never_reaches_another(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    settings: Settings,
    practice: PracticeFixture,
    token_headers: dict[str, str],
) -> None:
    other = await new_practice(client, store, settings)
    other_headers = {"Authorization": f"Bearer {await fetch_token(client, other)}"}
    created = await client.post(
        f"{other.scim_path}/Users", json=_user("private@other.org"), headers=other_headers
    )
    assert created.status_code == 201
    victim = created.json()["id"]

    # The first practice's token on the other practice's URL: refused outright.
    for method, path, body in [
        ("GET", f"{other.scim_path}/Users", None),
        ("GET", f"{other.scim_path}/Users/{victim}", None),
        ("DELETE", f"{other.scim_path}/Users/{victim}", None),
        ("POST", f"{other.scim_path}/Users", _user("intruder@x.org")),
    ]:
        response = await client.request(method, path, json=body, headers=token_headers)
        assert response.status_code == 401, (method, path)

    # On its own URL, guessing the other practice's ids finds nothing.
    own = practice.scim_path
    assert (await client.get(f"{own}/Users/{victim}", headers=token_headers)).status_code == 404
    deactivate = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    patched = await client.patch(f"{own}/Users/{victim}", json=deactivate, headers=token_headers)
    assert patched.status_code == 404
    deleted = await client.delete(f"{own}/Users/{victim}", headers=token_headers)
    assert deleted.status_code == 404
    listed = await client.get(
        f"{own}/Users", params={"filter": 'userName eq "private@other.org"'}, headers=token_headers
    )
    assert listed.json()["totalResults"] == 0

    still = await client.get(f"{other.scim_path}/Users/{victim}", headers=other_headers)
    assert still.status_code == 200
    assert still.json()["active"] is True


async def test_disabled_configuration_refuses_every_scim_call_and_changes_nothing(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    created = await client.post(
        f"{practice.scim_path}/Users", json=_user("kept@example.org"), headers=token_headers
    )
    user_id = created.json()["id"]
    disabled = await client.post(
        f"{practice.management_path}/disable",
        json={"confirm": "DISABLE"},
        headers=practice.admin_headers,
    )
    assert disabled.status_code == 200

    raw = base64.b64encode(f"{practice.client_id}:{practice.client_secret}".encode()).decode()
    for headers in (token_headers, {"Authorization": f"Basic {raw}"}):
        response = await client.post(
            f"{practice.scim_path}/Users", json=_user("new@example.org"), headers=headers
        )
        assert response.status_code == 401
        assert "disabled" in response.json()["detail"]
        removed = await client.delete(f"{practice.scim_path}/Users/{user_id}", headers=headers)
        assert removed.status_code == 401

    resumed = await client.post(
        f"{practice.management_path}/enable", headers=practice.admin_headers
    )
    assert resumed.json()["client_id"] == practice.client_id
    fresh = {"Authorization": f"Bearer {await fetch_token(client, practice)}"}
    kept = await client.get(f"{practice.scim_path}/Users/{user_id}", headers=fresh)
    assert kept.status_code == 200
    assert kept.json()["active"] is True
    missing = await client.get(
        f"{practice.scim_path}/Users",
        params={"filter": 'userName eq "new@example.org"'},
        headers=fresh,
    )
    assert missing.json()["totalResults"] == 0
