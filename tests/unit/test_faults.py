"""What the database-fault handler answers, per endpoint family (server/ops/faults.py)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest
from litestar.serialization import encode_json
from litestar.testing import RequestFactory

from server.ops.faults import database_fault

REFUSED_TEXT = asyncpg.exceptions.CharacterNotInRepertoireError(
    'invalid byte sequence for encoding "UTF8": 0x00'
)


def _answer(path: str, error: Exception) -> tuple[int | None, dict[str, str], dict[str, Any]]:
    request = RequestFactory().post(path)
    response = database_fault(request, error)
    body = json.loads(encode_json(response.content))
    return response.status_code, dict(response.headers), body


def test_text_postgresql_refuses_is_a_scim_invalid_value() -> None:
    status, _, body = _answer("/scim/v2/p/Users", REFUSED_TEXT)
    assert status == 400
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert (body["status"], body["scimType"]) == ("400", "invalidValue")
    assert "U+0000" in str(body["detail"])


def test_text_postgresql_refuses_is_an_oauth_invalid_request() -> None:
    status, headers, body = _answer("/oauth/token", REFUSED_TEXT)
    assert status == 400
    assert body["error"] == "invalid_request"
    assert headers["Cache-Control"] == "no-store"


def test_text_postgresql_refuses_elsewhere_is_a_plain_400() -> None:
    status, _, body = _answer("/api/v1/practices/p/scim/tokens", REFUSED_TEXT)
    assert (status, body["status_code"]) == (400, 400)


@pytest.mark.parametrize(
    "error", [asyncpg.exceptions.UndefinedColumnError("no column"), ValueError("not a driver")]
)
def test_any_other_driver_error_is_still_a_500(error: Exception) -> None:
    status, _, body = _answer("/scim/v2/p/Users", error)
    assert status == 500
    assert body["status"] == "500"
