"""Every exchange is recorded, and no secret survives into the record or the transcript."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx

from simulators.core.auth import Credentials
from simulators.core.directory import Person
from simulators.core.recorder import REDACTED, Recorder
from simulators.entra import ENTRA
from simulators.okta import OKTA
from tests.simulators.harness import harness

if TYPE_CHECKING:
    from pathlib import Path

    import respx

TOKEN_URL = "https://auth.example/oauth/token"


async def test_oauth_run_transcript_has_no_secret_token_or_password(
    router: respx.MockRouter, tmp_path: Path
) -> None:
    creds = Credentials(
        "oauth", token_url=TOKEN_URL, client_id="client-7", client_secret="s3cr3t-value-123"
    )
    h = harness(router, ENTRA, credentials=creds)
    router.post(TOKEN_URL).respond(200, json={"access_token": "at-98765-xyz", "expires_in": 3600})
    h.directory.add_person(Person("ann", "ann@example.org", given_name="Ann"))
    await h.sync.run_cycle()
    path = tmp_path / "transcript.txt"
    h.recorder.write_transcript(path)
    text = path.read_text()
    for secret in ("s3cr3t-value-123", "at-98765-xyz"):
        assert secret not in text
        assert secret not in json.dumps(h.recorder.as_dicts())
    token = h.recorder.select(label="auth.token")[0]
    assert token.request_body["client_secret"] == REDACTED
    assert token.response_body["access_token"] == REDACTED
    create = h.recorder.select(label="user.create")[0]
    assert create.request_headers["authorization"] == f"Bearer {REDACTED}"
    assert "POST https://target.example/scim/v2/Users" in text
    assert len(h.recorder.exchanges) == 3  # token, lookup, create


async def test_okta_create_password_and_basic_auth_are_redacted(router: respx.MockRouter) -> None:
    creds = Credentials("basic", client_id="okta-app", client_secret="basic-pass-42")
    h = harness(router, OKTA, credentials=creds)
    h.directory.add_person(Person("bo", "bo@example.org", given_name="Bo"))
    await h.sync.run_cycle()
    (create,) = h.recorder.select(label="user.create")
    assert create.request_body["password"] == REDACTED
    assert create.request_headers["authorization"] == f"Basic {REDACTED}"
    sent = json.loads(h.server.sent("POST")[0].content)
    assert sent["password"] != REDACTED  # only the record is redacted, not the wire


def test_values_registered_as_secrets_are_masked_anywhere() -> None:
    recorder = Recorder()
    recorder.add_secret("tok_live_ABCDEF")
    recorder.record(
        at=0.0,
        label="x",
        method="GET",
        url="https://h/x?token=tok_live_ABCDEF",
        status=200,
        response_body=recorder.redact({"note": "was tok_live_ABCDEF"}),
    )
    exchange = recorder.exchanges[0]
    assert "tok_live_ABCDEF" not in exchange.url
    assert exchange.response_body == {"note": f"was {REDACTED}"}
    headers = recorder.redact_headers(httpx.Headers({"Authorization": "Bearer abc"}).multi_items())
    assert headers == {"authorization": f"Bearer {REDACTED}"}
