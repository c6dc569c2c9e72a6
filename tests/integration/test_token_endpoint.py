"""The OAuth 2.0 token endpoint: client credentials (RFC 6749 §4.4) and its errors (§5.2)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from tests.conftest import PracticeFixture


def _basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def test_client_secret_post_issues_a_bearer_token(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": practice.client_id,
            "client_secret": practice.client_secret,
            "scope": "scim",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].startswith("sat_")
    assert response.headers["cache-control"] == "no-store"
    users = await client.get(
        f"{practice.scim_path}/Users",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert users.status_code == 200


async def test_client_secret_basic_issues_a_token(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(practice.client_id, practice.client_secret),
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


@pytest.mark.parametrize(
    ("form", "use_basic", "status", "error"),
    [
        (
            {"grant_type": "client_credentials", "client_secret": "wrong"},
            False,
            401,
            "invalid_client",
        ),
        ({"grant_type": "client_credentials"}, True, 401, "invalid_client"),
        ({"grant_type": "password"}, None, 400, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "x"}, None, 400, "unsupported_grant_type"),
        ({}, None, 400, "invalid_request"),
        ({"grant_type": "client_credentials"}, False, 401, "invalid_client"),
    ],
    ids=["wrong-secret", "wrong-basic", "password-grant", "code-grant", "no-grant", "no-client"],
)
async def test_token_errors_follow_rfc6749_section_5_2(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    form: dict[str, str],
    use_basic: bool | None,
    status: int,
    error: str,
) -> None:
    headers: dict[str, str] = {}
    data = dict(form)
    if use_basic is None:
        data |= {"client_id": practice.client_id, "client_secret": practice.client_secret}
    elif use_basic:
        headers = _basic(practice.client_id, "not-the-secret")
    elif "client_secret" in data:
        data["client_id"] = practice.client_id
    response = await client.post("/oauth/token", data=data, headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic")


async def test_unknown_client_is_invalid_client(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
    )
    assert response.status_code == 401
    body = response.json()
    assert body.pop("request_id") == response.headers["x-request-id"]
    assert body == {"error": "invalid_client", "error_description": "client authentication failed"}


async def test_json_body_is_an_invalid_request(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    response = await client.post(
        "/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": practice.client_id,
            "client_secret": practice.client_secret,
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_repeated_parameter_is_an_invalid_request(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    body = (
        f"grant_type=client_credentials&grant_type=client_credentials"
        f"&client_id={practice.client_id}&client_secret={practice.client_secret}"
    )
    response = await client.post(
        "/oauth/token",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_two_client_authentication_methods_are_refused(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_secret": practice.client_secret},
        headers=_basic(practice.client_id, practice.client_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_disabled_configuration_refuses_tokens(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    disabled = await client.post(
        f"{practice.management_path}/disable",
        json={"confirm": "DISABLE"},
        headers=practice.admin_headers,
    )
    assert disabled.status_code == 200
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": practice.client_id,
            "client_secret": practice.client_secret,
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
