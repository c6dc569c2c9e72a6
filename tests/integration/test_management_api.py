"""The management API: a practice administrator runs the SCIM configuration lifecycle.

Each test checks the effect where it matters: on ``/oauth/token`` and on the SCIM endpoint,
not only on the management response.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import PUBLIC_URL, PracticeFixture, fetch_token, new_practice

if TYPE_CHECKING:
    from httpx import Response
    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.settings import Settings

DISABLE = {"confirm": "DISABLE"}
DELETE = {"confirm": "DELETE"}


async def _token_request(client: AsyncTestClient[Any], client_id: str, secret: str) -> Response:
    return await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


async def _users(client: AsyncTestClient[Any], practice: PracticeFixture, token: str) -> Response:
    return await client.get(
        f"{practice.scim_path}/Users", headers={"Authorization": f"Bearer {token}"}
    )


async def _show(client: AsyncTestClient[Any], practice: PracticeFixture) -> Response:
    return await client.get(practice.management_path, headers=practice.admin_headers)


async def _post(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    action: str,
    body: dict[str, str] | None = None,
) -> Response:
    return await client.post(
        f"{practice.management_path}/{action}", headers=practice.admin_headers, json=body
    )


async def _static_token(client: AsyncTestClient[Any], practice: PracticeFixture) -> dict[str, Any]:
    response = await _post(client, practice, "tokens")
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Bearer sak_not-a-key", "Basic YWRtaW46YWRtaW4=", "sak_no-scheme"],
    ids=["missing", "empty", "unknown-key", "basic", "no-scheme"],
)
@pytest.mark.parametrize(
    "route",
    [
        ("GET", "", None),
        ("POST", "/disable", DISABLE),
        ("POST", "/regenerate-secret", None),
        ("POST", "/tokens", None),
        ("GET", "/audit", None),
    ],
    ids=["show", "disable", "regenerate", "tokens", "audit"],
)
async def test_missing_or_invalid_api_key_is_401(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    authorization: str | None,
    route: tuple[str, str, dict[str, str] | None],
) -> None:
    method, action, body = route
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.request(
        method, f"{practice.management_path}{action}", headers=headers, json=body
    )
    assert response.status_code == 401
    assert practice.client_secret not in response.text
    # Nothing happened: the original secret still gets a token.
    assert (await _token_request(client, practice.client_id, practice.client_secret)).is_success


async def test_client_secret_is_not_an_admin_api_key(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    response = await client.get(
        practice.management_path, headers={"Authorization": f"Bearer {practice.client_secret}"}
    )
    assert response.status_code == 401


async def test_admin_of_another_practice_gets_404_and_changes_nothing(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    store: PiccoloStore,
    settings: Settings,
) -> None:
    other = await new_practice(client, store, settings)
    path = practice.management_path
    headers = other.admin_headers
    attempts = [
        await client.get(path, headers=headers),
        await client.post(f"{path}/enable", headers=headers),
        await client.post(f"{path}/disable", headers=headers, json=DISABLE),
        await client.post(f"{path}/regenerate-secret", headers=headers),
        await client.post(f"{path}/delete", headers=headers, json=DELETE),
        await client.post(f"{path}/tokens", headers=headers),
        await client.get(f"{path}/tokens", headers=headers),
        await client.delete(f"{path}/tokens/{uuid.uuid4()}", headers=headers),
        await client.get(f"{path}/audit", headers=headers),
    ]
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    for response in attempts:
        assert practice.client_id not in response.text

    shown = await _show(client, practice)
    assert shown.status_code == 200
    assert shown.json()["enabled"] is True
    assert shown.json()["client_id"] == practice.client_id
    assert (await _token_request(client, practice.client_id, practice.client_secret)).is_success
    tokens = await client.get(f"{path}/tokens", headers=practice.admin_headers)
    assert tokens.json() == []
    audit = await client.get(f"{path}/audit", headers=practice.admin_headers)
    assert [e["action"] for e in audit.json()] == ["scim.enabled", "practice.created"]


async def test_unknown_practice_id_is_404_for_a_valid_key(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    response = await client.get(
        f"/api/v1/practices/{uuid.uuid4()}/scim", headers=practice.admin_headers
    )
    assert response.status_code == 404


# --- show and enable ----------------------------------------------------------------------


async def test_show_masks_the_secret(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    response = await _show(client, practice)
    assert response.status_code == 200
    body = response.json()
    assert practice.client_secret not in response.text
    assert practice.client_secret[4:20] not in response.text
    assert body == {
        "scim_endpoint_url": f"{PUBLIC_URL}{practice.scim_path}",
        "token_endpoint_url": f"{PUBLIC_URL}/oauth/token",
        "client_id": practice.client_id,
        "client_secret": body["client_secret"],
        "secret_shown": False,
        "enabled": True,
    }
    assert body["client_secret"].endswith(practice.client_secret[-4:])
    assert len(body["client_secret"]) < len(practice.client_secret)


async def test_enable_on_an_enabled_configuration_does_not_reveal_the_secret(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    response = await _post(client, practice, "enable")
    assert response.status_code == 200
    body = response.json()
    assert practice.client_secret not in response.text
    assert body["secret_shown"] is False
    assert body["enabled"] is True
    assert body["client_id"] == practice.client_id
    # Still the same secret, not a new one that nobody saw.
    assert (await _token_request(client, practice.client_id, practice.client_secret)).is_success


# --- disable and resume -------------------------------------------------------------------


@pytest.mark.parametrize("word", ["disable", "", "Disable", "DISABLE ", "DELETE"], ids=repr)
async def test_disable_without_the_exact_word_is_400_and_changes_nothing(
    client: AsyncTestClient[Any], practice: PracticeFixture, word: str
) -> None:
    token = await fetch_token(client, practice)
    response = await _post(client, practice, "disable", {"confirm": word})
    assert response.status_code == 400
    assert "DISABLE" in response.json()["detail"]

    assert (await _show(client, practice)).json()["enabled"] is True
    assert (await _token_request(client, practice.client_id, practice.client_secret)).is_success
    assert (await _users(client, practice, token)).status_code == 200


async def test_disable_without_a_body_is_400(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    response = await _post(client, practice, "disable")
    assert response.status_code == 400
    assert (await _show(client, practice)).json()["enabled"] is True


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (None, None, 'the request has no JSON body; this call takes a JSON object with "confirm"'),
        (b"{", None, "the request body is not valid JSON"),
        (b"[]", None, "the body must be a JSON object, not a list"),
        (b"{}", "confirm", 'the field "confirm" is missing'),
        (b'{"confirm": 5}', "confirm", 'the field "confirm" must be a string, not a whole number'),
    ],
    ids=["missing", "malformed", "array", "no-field", "wrong-type"],
)
async def test_a_body_that_cannot_be_read_is_named_in_words(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    body: bytes | None,
    field: str | None,
    words: str,
) -> None:
    response = await client.post(
        f"{practice.management_path}/disable",
        headers={**practice.admin_headers, "Content-Type": "application/json"},
        content=body,
    )
    assert response.status_code == 400
    error = response.json()
    assert words in error["detail"]
    assert "'data'" not in response.text
    assert "`" not in response.text
    for item in error.get("extra", []):
        assert item["field"] == field
    assert (await _show(client, practice)).json()["enabled"] is True


async def test_an_sso_field_of_the_wrong_type_is_named(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    response = await client.put(
        f"/api/v1/practices/{practice.id}/sso",
        headers=practice.admin_headers,
        json={"issuer": 3, "client_id": "c", "link_rule": "sub:externalId", "extra": 1},
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert 'the field "issuer" must be a string' in detail or '"extra" is not a field' in detail


async def test_disable_pauses_provisioning_and_revokes_tokens(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    token = await fetch_token(client, practice)
    assert (await _users(client, practice, token)).status_code == 200

    response = await _post(client, practice, "disable", DISABLE)
    assert response.status_code == 200
    assert response.json()["enabled"] is False
    assert response.json()["secret_shown"] is False
    assert practice.client_secret not in response.text
    assert (await _show(client, practice)).json()["enabled"] is False

    refused = await _token_request(client, practice.client_id, practice.client_secret)
    assert refused.status_code == 400
    assert refused.json()["error"] == "unauthorized_client"
    assert (await _users(client, practice, token)).status_code == 401


async def test_enable_resumes_with_the_same_credentials(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    paused_token = await fetch_token(client, practice)
    assert (await _post(client, practice, "disable", DISABLE)).status_code == 200

    response = await _post(client, practice, "enable")
    assert response.status_code == 200
    body = response.json()
    assert body["client_id"] == practice.client_id
    assert body["enabled"] is True
    assert body["secret_shown"] is False
    assert practice.client_secret not in response.text

    token = await fetch_token(client, practice)
    assert (await _users(client, practice, token)).status_code == 200
    # Tokens revoked by the pause stay revoked.
    assert (await _users(client, practice, paused_token)).status_code == 401


# --- regenerate ---------------------------------------------------------------------------


async def test_regenerate_secret_replaces_the_secret_and_kills_old_tokens(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    old_token = await fetch_token(client, practice)
    assert (await _users(client, practice, old_token)).status_code == 200

    response = await _post(client, practice, "regenerate-secret")
    assert response.status_code == 200
    body = response.json()
    new_secret = body["client_secret"]
    assert body["secret_shown"] is True
    assert body["enabled"] is True
    assert body["client_id"] == practice.client_id
    assert new_secret != practice.client_secret
    assert new_secret.startswith("scs_")

    old = await _token_request(client, practice.client_id, practice.client_secret)
    assert old.status_code == 401
    assert old.json()["error"] == "invalid_client"
    assert (await _users(client, practice, old_token)).status_code == 401

    fresh = await _token_request(client, practice.client_id, new_secret)
    assert fresh.status_code == 200
    assert (await _users(client, practice, fresh.json()["access_token"])).status_code == 200
    # Shown once: show masks the new secret too.
    shown = await _show(client, practice)
    assert new_secret not in shown.text
    assert shown.json()["client_secret"].endswith(new_secret[-4:])


# --- static tokens ------------------------------------------------------------------------


async def test_static_token_is_shown_once_listed_masked_and_revocable(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    created = await _static_token(client, practice)
    token = created["token"]
    assert token.startswith("sst_")
    assert (await _users(client, practice, token)).status_code == 200

    listed = await client.get(f"{practice.management_path}/tokens", headers=practice.admin_headers)
    assert listed.status_code == 200
    assert token not in listed.text
    assert token[4:20] not in listed.text
    [entry] = listed.json()
    assert entry["id"] == created["id"]
    assert entry["created_at"].endswith("Z")  # ISO 8601 in UTC, as every JSON output
    assert entry["token"].endswith(token[-4:])
    assert entry["token"] != token

    revoked = await client.delete(
        f"{practice.management_path}/tokens/{created['id']}", headers=practice.admin_headers
    )
    assert revoked.status_code == 204
    assert (await _users(client, practice, token)).status_code == 401
    listed = await client.get(f"{practice.management_path}/tokens", headers=practice.admin_headers)
    assert listed.json() == []

    again = await client.delete(
        f"{practice.management_path}/tokens/{created['id']}", headers=practice.admin_headers
    )
    assert again.status_code == 404


async def test_static_token_cannot_be_revoked_through_another_practice(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    store: PiccoloStore,
    settings: Settings,
) -> None:
    other = await new_practice(client, store, settings)
    created = await _static_token(client, practice)
    response = await client.delete(
        f"{other.management_path}/tokens/{created['id']}", headers=other.admin_headers
    )
    assert response.status_code == 404
    assert (await _users(client, practice, created["token"])).status_code == 200
    # Nor used there.
    assert (await _users(client, other, created["token"])).status_code == 401


async def test_static_token_cannot_be_created_while_disabled(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    assert (await _post(client, practice, "disable", DISABLE)).status_code == 200
    response = await _post(client, practice, "tokens")
    assert response.status_code == 403
    listed = await client.get(f"{practice.management_path}/tokens", headers=practice.admin_headers)
    assert listed.json() == []


@pytest.mark.parametrize(
    ("action", "body"),
    [("regenerate-secret", None), ("disable", DISABLE)],
    ids=["regenerate", "disable"],
)
async def test_regenerate_and_disable_revoke_static_tokens(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    action: str,
    body: dict[str, str] | None,
) -> None:
    created = await _static_token(client, practice)
    assert (await _users(client, practice, created["token"])).status_code == 200

    assert (await _post(client, practice, action, body)).status_code == 200
    # Resuming (a no-op after regenerate) does not bring the token back: it was revoked.
    assert (await _post(client, practice, "enable")).status_code == 200
    assert (await _users(client, practice, created["token"])).status_code == 401
    listed = await client.get(f"{practice.management_path}/tokens", headers=practice.admin_headers)
    assert listed.json() == []


# --- delete -------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["delete", "", "DISABLE", " DELETE"], ids=repr)
async def test_delete_without_the_exact_word_is_400_and_changes_nothing(
    client: AsyncTestClient[Any], practice: PracticeFixture, word: str
) -> None:
    response = await _post(client, practice, "delete", {"confirm": word})
    assert response.status_code == 400
    assert "DELETE" in response.json()["detail"]

    shown = await _show(client, practice)
    assert shown.status_code == 200
    assert shown.json()["client_id"] == practice.client_id
    assert (await _token_request(client, practice.client_id, practice.client_secret)).is_success


async def test_delete_removes_the_configuration_for_good(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    token = await fetch_token(client, practice)
    static = await _static_token(client, practice)

    response = await _post(client, practice, "delete", DELETE)
    assert response.status_code == 204
    assert (await _show(client, practice)).status_code == 404
    assert (await _post(client, practice, "regenerate-secret")).status_code == 404
    assert (await _post(client, practice, "disable", DISABLE)).status_code == 404
    assert (await _post(client, practice, "delete", DELETE)).status_code == 404

    old = await _token_request(client, practice.client_id, practice.client_secret)
    assert old.status_code == 401
    assert old.json()["error"] == "invalid_client"
    assert (await _users(client, practice, token)).status_code == 401
    assert (await _users(client, practice, static["token"])).status_code == 401

    enabled = await _post(client, practice, "enable")
    assert enabled.status_code == 200
    body = enabled.json()
    assert body["client_id"] != practice.client_id
    assert body["client_secret"] != practice.client_secret
    assert body["secret_shown"] is True
    assert body["enabled"] is True
    # The new credentials work; the old ones still do not.
    fresh = await _token_request(client, body["client_id"], body["client_secret"])
    assert fresh.status_code == 200
    assert (await _users(client, practice, fresh.json()["access_token"])).status_code == 200
    old_id_new_secret = await _token_request(client, practice.client_id, body["client_secret"])
    assert old_id_new_secret.status_code == 401


# --- audit --------------------------------------------------------------------------------


async def test_audit_log_lists_every_action_newest_first_without_secrets(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    shown_once = [practice.client_secret, practice.admin_api_key]
    assert (await _post(client, practice, "enable")).status_code == 200  # no-op: not audited
    assert (await _post(client, practice, "disable", {"confirm": "nope"})).status_code == 400
    assert (await _post(client, practice, "disable", DISABLE)).status_code == 200
    assert (await _post(client, practice, "enable")).status_code == 200
    regenerated = await _post(client, practice, "regenerate-secret")
    shown_once.append(regenerated.json()["client_secret"])
    static = await _static_token(client, practice)
    shown_once.append(static["token"])
    revoked = await client.delete(
        f"{practice.management_path}/tokens/{static['id']}", headers=practice.admin_headers
    )
    assert revoked.status_code == 204
    assert (await _post(client, practice, "delete", DELETE)).status_code == 204
    enabled = (await _post(client, practice, "enable")).json()
    shown_once.append(enabled["client_secret"])
    issued = await _token_request(client, enabled["client_id"], enabled["client_secret"])
    shown_once.append(issued.json()["access_token"])

    response = await client.get(f"{practice.management_path}/audit", headers=practice.admin_headers)
    assert response.status_code == 200
    entries = response.json()
    assert [e["action"] for e in entries] == [
        "scim.enabled",
        "scim.deleted",
        "scim.static_token_revoked",
        "scim.static_token_created",
        "scim.secret_regenerated",
        "scim.resumed",
        "scim.disabled",
        "scim.enabled",
        "practice.created",
    ]
    assert {e["actor"] for e in entries[:-1]} == {"admin:admin"}
    stamps = [e["created_at"] for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    assert entries[-3]["detail"] == "tokens_revoked=0"  # disable, before any token
    assert entries[3]["detail"] == f"id={static['id']}"
    assert entries[1]["detail"].startswith(f"client_id={practice.client_id}")
    for secret in shown_once:
        assert secret not in response.text
        assert secret[4:16] not in response.text


# --- OpenAPI ------------------------------------------------------------------------------


async def test_openapi_document_lists_the_management_api(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/api/docs/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    base = "/api/v1/practices/{practice_id}/scim"
    for path in [
        base,
        f"{base}/enable",
        f"{base}/disable",
        f"{base}/regenerate-secret",
        f"{base}/delete",
        f"{base}/tokens",
        f"{base}/tokens/{{token_id}}",
        f"{base}/audit",
        "/oauth/token",
    ]:
        assert path in paths, sorted(paths)
    assert set(paths[f"{base}/tokens"]) == {"get", "post"}
    assert set(paths[f"{base}/tokens/{{token_id}}"]) == {"delete"}
    assert "post" in paths["/oauth/token"]
