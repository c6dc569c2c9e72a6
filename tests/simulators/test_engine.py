"""The engine on injected time: retries, Retry-After, timeouts, tokens, escrow, quarantine."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import httpx
import pytest

from simulators.core.auth import Credentials, StaticBearer
from simulators.core.builders import ScimRequest
from simulators.core.clock import VirtualClock, format_duration, parse_duration
from simulators.core.directory import Person
from simulators.core.engine import Engine, retry_after_seconds
from simulators.core.recorder import Recorder
from simulators.entra import ENTRA
from simulators.okta import OKTA
from tests.simulators.fake_scim import BASE, scim
from tests.simulators.harness import harness

if TYPE_CHECKING:
    import respx

HOUR, DAY = 3600.0, 86400.0
TOKEN_URL = "https://auth.example/oauth/token"
OAUTH = Credentials("oauth", token_url=TOKEN_URL, client_id="cid", client_secret="very-secret-1")


def alice(key: str = "alice") -> Person:
    return Person(key, f"{key}@example.org", given_name="Alice", family_name="Ng")


async def test_retry_after_is_honoured_and_only_the_failed_request_is_retried(
    router: respx.MockRouter,
) -> None:
    h = harness(router, ENTRA)
    h.server.script(
        "POST",
        "/Users",
        scim(429, {"status": "429"}, **{"Retry-After": "7"}),
        scim(201, {"id": "u1"}),
    )
    h.directory.add_person(alice())
    report = await h.sync.run_cycle()
    assert report.failures == {}
    assert len(h.server.sent("POST")) == 2
    assert h.clock.sleeps == [7.0]
    attempts = [e.attempt for e in h.recorder.select(label="user.create")]
    assert attempts == [1, 2]


async def test_5xx_without_retry_after_backs_off_then_escrows(router: respx.MockRouter) -> None:
    h = harness(router, ENTRA)
    h.server.script("POST", "/Users", scim(503, {"status": "503"}))
    h.directory.add_person(alice())
    report = await h.sync.run_cycle()
    assert len(h.server.sent("POST")) == ENTRA.retry.max_attempts
    assert h.clock.sleeps == [ENTRA.retry.backoff] * (ENTRA.retry.max_attempts - 1)
    assert report.failures["user:alice"].status == 503
    assert h.sync.escrow["user:alice"].attempts == 1
    # the escrowed object is retried on the next cycle, with no change in the directory
    h.server.script("POST", "/Users", scim(201, {"id": "u1"}))
    await h.sync.run_cycle()
    assert h.sync.escrow == {}
    assert h.sync.objects.server_id("alice") == "u1"


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds("5") == 5.0
    assert retry_after_seconds("not a date") is None
    later = time.time() + 120
    stamp = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(later))
    assert 100 < (retry_after_seconds(stamp) or 0) <= 120


async def test_a_stalled_request_is_aborted_at_the_dialect_timeout(
    router: respx.MockRouter,
) -> None:
    clock = VirtualClock(timeout_scale=0.001)  # 60 s of Okta time is 60 ms of real time

    async def stall(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return scim(200, {})

    router.get(f"{BASE}/Users/slow").mock(side_effect=stall)
    recorder = Recorder()
    engine = Engine(
        httpx.AsyncClient(),
        BASE,
        OKTA,
        auth=StaticBearer("static-token"),
        clock=clock,
        recorder=recorder,
    )
    started = time.perf_counter()
    outcome = await engine.send(ScimRequest("GET", "/Users/slow", "user.get"))
    assert time.perf_counter() - started < 2
    assert outcome.error == "timed out after 60s with no response"
    assert not outcome.ok
    assert clock.now() == 60.0
    assert recorder.exchanges[0].error == outcome.error


async def test_oauth_token_is_cached_and_refreshed_once_on_401(router: respx.MockRouter) -> None:
    h = harness(router, ENTRA, credentials=OAUTH)
    tokens = router.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "tok-1", "expires_in": 3600}),
            httpx.Response(200, json={"access_token": "tok-2", "expires_in": 3600}),
        ]
    )

    def users(request: httpx.Request) -> httpx.Response | None:
        if request.headers["authorization"] != "Bearer tok-2":
            return scim(401, {"status": "401"})
        return None

    h.server.intercept = users
    first = await h.sync.engine.send(ScimRequest("GET", "/Groups", "probe"))
    second = await h.sync.engine.send(ScimRequest("GET", "/Groups", "probe"))
    assert first.ok
    assert second.ok
    assert tokens.call_count == 2  # one fetch, one refresh after the 401, then cached
    form = dict(httpx.QueryParams(tokens.calls[0].request.content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "very-secret-1",
    }
    labels = [e.label for e in h.recorder.exchanges]
    assert labels == ["auth.token", "auth.rejected", "auth.token", "probe", "probe"]


async def test_token_expiry_on_the_injected_clock_and_client_secret_basic(
    router: respx.MockRouter,
) -> None:
    creds = Credentials(
        "oauth",
        token_url=TOKEN_URL,
        client_id="cid",
        client_secret="very-secret-1",
        client_auth="client_secret_basic",
    )
    h = harness(router, ENTRA, credentials=creds)
    tokens = router.post(TOKEN_URL).respond(200, json={"access_token": "t", "expires_in": 3600})
    await h.sync.engine.send(ScimRequest("GET", "/Groups", "probe"))
    h.clock.advance(30 * 60)
    await h.sync.engine.send(ScimRequest("GET", "/Groups", "probe"))
    assert tokens.call_count == 1
    h.clock.advance(31 * 60)  # past expires_in minus the refresh margin
    await h.sync.engine.send(ScimRequest("GET", "/Groups", "probe"))
    assert tokens.call_count == 2
    request = tokens.calls[0].request
    assert request.headers["authorization"] == "Basic Y2lkOnZlcnktc2VjcmV0LTE="
    assert "client_secret" not in request.content.decode()


async def test_refused_client_credentials_are_an_auth_failure(router: respx.MockRouter) -> None:
    h = harness(router, ENTRA, credentials=OAUTH)
    router.post(TOKEN_URL).respond(401, json={"error": "invalid_client"})
    outcome = await h.sync.engine.send(ScimRequest("GET", "/Groups", "probe"))
    assert outcome.auth_failed
    assert outcome.status is None
    assert "invalid_client" in (outcome.error or "")


async def test_quarantine_backs_off_six_twelve_twenty_four_hours_then_recovers(
    router: respx.MockRouter,
) -> None:
    h = harness(router, ENTRA)
    refusing = {"on": True}

    def gate(request: httpx.Request) -> httpx.Response | None:
        return scim(401, {"status": "401"}) if refusing["on"] else None

    h.server.intercept = gate
    h.directory.add_person(alice())
    await h.sync.run_cycle()
    quarantine = h.sync.quarantine
    assert quarantine is not None
    assert "EncounteredQuarantineException" in quarantine.reason
    assert quarantine.next_run == 6 * HOUR
    await h.sync.run_schedule(18 * HOUR)  # retries at +6 h and +18 h fail
    assert list(quarantine.retries) == [6 * HOUR, 18 * HOUR]
    refusing["on"] = False
    await h.sync.run_schedule(2 * DAY)
    assert quarantine.retries[-1] == 42 * HOUR  # +24 h after the second retry
    assert quarantine.exited_at == 42 * HOUR
    assert h.sync.quarantine is None
    assert h.sync.objects.server_id("alice") is not None


async def test_quarantine_stops_the_job_after_28_days(router: respx.MockRouter) -> None:
    h = harness(router, ENTRA)
    h.server.intercept = lambda _request: scim(401, {"status": "401"})
    h.directory.add_person(alice())
    await h.sync.run_cycle()
    await h.sync.run_schedule(40 * DAY)
    assert h.sync.quarantine is not None
    assert h.sync.quarantine.disabled
    assert h.sync.next_due() == float("inf")
    offsets = [
        b - a
        for a, b in zip(h.sync.quarantine.retries, h.sync.quarantine.retries[1:], strict=False)
    ]
    assert offsets[:2] == [12 * HOUR, 24 * HOUR]
    assert set(offsets[2:]) == {DAY}


async def test_okta_failures_become_tasks_until_an_admin_retries(router: respx.MockRouter) -> None:
    h = harness(router, OKTA)
    h.server.script("POST", "/Users", scim(500, {"status": "500"}))
    h.directory.add_person(alice())
    await h.sync.run_cycle()
    await h.sync.run_cycle()
    assert len(h.server.sent("POST")) == 1  # Okta retries 429 only; a 500 is a failed task
    assert h.sync.tasks["user:alice"].status == 500
    h.server.script("POST", "/Users", scim(201, {"id": "u9"}))
    assert h.sync.retry_tasks() == ["user:alice"]
    await h.sync.run_cycle()
    assert h.sync.tasks == {}
    assert h.sync.objects.server_id("alice") == "u9"


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("40m", 2400), ("1d6h", 108000), ("250ms", 0.25), (5, 5)]
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_durations_and_formatting() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("3 fortnights")
    assert format_duration(108000) == "1d6h"


async def test_refused_credentials_are_not_offered_again_until_they_change(
    router: respx.MockRouter,
) -> None:
    h = harness(router, ENTRA, credentials=OAUTH)
    tokens = router.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(401, json={"error": "invalid_client"}),
            httpx.Response(200, json={"access_token": "fresh", "expires_in": 3600}),
        ]
    )
    first = await h.sync.engine.send(ScimRequest("GET", "/Groups", "probe"))
    again = await h.sync.engine.send(ScimRequest("GET", "/Groups", "probe"))
    assert first.auth_failed
    assert again.auth_failed
    assert "not retried yet" in (again.error or "")
    assert tokens.call_count == 1  # one bad secret is not a burst of token requests
    h.sync.engine.auth.update(OAUTH.with_secret("rotated-secret-2"))
    assert (await h.sync.engine.send(ScimRequest("GET", "/Groups", "probe"))).ok
    assert "rotated-secret-2" in tokens.calls[1].request.content.decode()
