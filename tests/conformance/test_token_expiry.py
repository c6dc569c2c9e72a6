"""TA-009 waits for a token to expire, so it applies when tokens are short-lived: an app with
one-second tokens shows it passing (and the session renewing its own tokens meanwhile)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from litestar.testing import AsyncTestClient

from conformance.runner import Outcome
from conformance.target import Target
from server.app import create_app
from tests.conformance.conftest import run
from tests.conftest import PUBLIC_URL, new_practice

if TYPE_CHECKING:
    from server.persistence.store import PiccoloStore
    from server.settings import Settings

CHECKS = ["TA-009", "TA-001", "AF-008"]


async def test_expired_tokens_are_checked_when_they_live_briefly(
    store: PiccoloStore, settings: Settings
) -> None:
    brief = dataclasses.replace(settings, access_token_ttl_seconds=1)
    async with AsyncTestClient(app=create_app(brief), base_url=PUBLIC_URL) as client:
        practice = await new_practice(client, store, brief)
        target = Target(
            scim_url=f"{PUBLIC_URL}{practice.scim_path}",
            token_url=f"{PUBLIC_URL}/oauth/token",
            client_id=practice.client_id,
            client_secret=practice.client_secret,
        )
        report = await run(target, client, ids=CHECKS)
        assert {r.check.id: r.outcome for r in report.results} == dict.fromkeys(
            CHECKS, Outcome.PASS
        )
        impatient = dataclasses.replace(target, expiry_wait_limit=0.5)
        skipped = (await run(impatient, client, ids=["TA-009"])).results[0]
        assert skipped.outcome is Outcome.NOT_APPLICABLE
        assert "tokens live 1 s" in skipped.message
