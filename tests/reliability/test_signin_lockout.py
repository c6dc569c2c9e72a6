"""The console's sign-in lockout under concurrency: 60 simultaneous wrong passwords (or wrong
authenticator codes) against one account, in process and against ``scimlab serve --workers 2``
on a real socket, on SQLite and PostgreSQL. At most five are evaluated before the lock and none
is answered 500; first-time enrolments racing each other keep one secret.

"Evaluated" is observed two ways: in process, by counting the calls that check a password or a
code (the functions the sign-in service calls); across processes, by the audit log, which the
in-process tests prove records exactly one entry per evaluated guess.

Then the rate limits of console sign-in, per account and per source address (429 with the
console's error page and ``Retry-After``; a refused attempt is neither checked nor counted)."""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any

import httpx
import pyotp
import pytest

import server.domain.signin as signin_module
from server.services import Services
from tests.console.helpers import csrf_of, new_console_practice
from tests.reliability.support import (
    UNLIMITED_ENV,
    Server,
    cli_json,
    deployment,
    fresh_database,
    query,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = pytest.mark.reliability

GUESSES = 60
MOST_EVALUATED = 5
#: Answers a guess may get (no rate limit applies here): wrong (401) or locked (423).
REFUSALS = {401, 423}
#: No rate limit, and cookies over plain http to 127.0.0.1.
SERVE_ENV = {**UNLIMITED_ENV, "SCIMLAB_COOKIE_SECURE": "false"}


class Counted:
    """A stand-in for a function of the sign-in service that counts its calls."""

    def __init__(self, wrapped: Callable[..., Any]) -> None:
        self.wrapped = wrapped
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.wrapped(*args, **kwargs)


def wrong_code(secret: str) -> str:
    """A six-digit code that no step near now accepts."""
    totp = pyotp.TOTP(secret)
    now = time.time()
    near = {totp.at(now + 30 * k) for k in range(-3, 4)}
    return next(c for c in (f"{n:06d}" for n in range(1, 1_000_000, 7919)) if c not in near)


async def sign_in_page(http: httpx.AsyncClient, base: str, practice_id: str) -> str:
    """Open the sign-in page (setting the pre-sign-in CSRF cookie); its form's token."""
    shown = await http.get(f"{base}/console/{practice_id}/sign-in")
    assert shown.status_code == 200, shown.text
    return csrf_of(shown.text)


async def password_guesses(
    http: httpx.AsyncClient, base: str, practice_id: str, count: int
) -> list[int]:
    csrf = await sign_in_page(http, base, practice_id)
    form = {"user_name": "admin", "password": "not-the-password", "csrf_token": csrf}
    action = f"{base}/console/{practice_id}/sign-in"
    answers = await asyncio.gather(*[http.post(action, data=form) for _ in range(count)])
    return [r.status_code for r in answers]


async def code_guesses(
    http: httpx.AsyncClient,
    base: str,
    practice_id: str,
    password: str,
    count: int,
    *,
    at_once: bool = True,
) -> list[int]:
    """Pass the password step, open the enrolment page, then send ``count`` wrong codes
    (all at once, or one after another)."""
    csrf = await sign_in_page(http, base, practice_id)
    page = f"{base}/console/{practice_id}/sign-in"
    passed = await http.post(
        page, data={"user_name": "admin", "password": password, "csrf_token": csrf}
    )
    assert passed.status_code == 303, passed.text
    code_page = await http.get(f"{page}/code")
    assert code_page.status_code == 200, code_page.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', code_page.text)
    assert secret, code_page.text
    form = {"code": wrong_code(secret.group(1)), "csrf_token": csrf_of(code_page.text)}
    if not at_once:
        return [(await http.post(f"{page}/code", data=form)).status_code for _ in range(count)]
    answers = await asyncio.gather(*[http.post(f"{page}/code", data=form) for _ in range(count)])
    return [r.status_code for r in answers]


async def audited_guesses(url: str, practice_id: str, reason: str) -> int:
    """Audit entries of evaluated guesses: failures for ``reason``, and locks."""
    rows = await query(
        url,
        "SELECT action, detail FROM audit_event "  # noqa: S608 - a UUID the test made
        f"WHERE practice_id = '{practice_id}' AND action IN ('sign_in.failed', 'sign_in.locked')",
    )
    return sum(
        1 for action, detail in rows if action == "sign_in.locked" or detail == f"reason={reason}"
    )


def assert_held(statuses: list[int], evaluated: int) -> None:
    assert set(statuses) <= REFUSALS, sorted(statuses)
    assert 423 in statuses, sorted(statuses)  # the account did lock
    assert 1 <= evaluated <= MOST_EVALUATED, evaluated


async def test_concurrent_wrong_passwords_evaluate_at_most_five(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = Counted(signin_module.verify_password)
    monkeypatch.setattr(signin_module, "verify_password", checks)
    async with deployment(backend, tmp_path, cookie_secure=False) as d:
        practice = await new_console_practice(Services.build(d.store, d.settings), scim=False)
        statuses = await password_guesses(d.client, "", practice.id, GUESSES)
        audited = await audited_guesses(d.url, practice.id, "password")
    assert_held(statuses, checks.calls)
    assert audited == checks.calls  # the audit log counts what was evaluated


async def test_concurrent_wrong_codes_evaluate_at_most_five(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = Counted(signin_module.accepted_step)
    monkeypatch.setattr(signin_module, "accepted_step", checks)
    async with deployment(backend, tmp_path, cookie_secure=False) as d:
        practice = await new_console_practice(Services.build(d.store, d.settings), scim=False)
        statuses = await code_guesses(d.client, "", practice.id, practice.admin_password, GUESSES)
        audited = await audited_guesses(d.url, practice.id, "code")
    assert_held(statuses, checks.calls)
    assert audited == checks.calls


async def test_concurrent_first_enrolments_keep_one_secret(backend: str, tmp_path: Path) -> None:
    """Every page that shows the enrolment shows the secret that is kept; none fails."""
    async with deployment(backend, tmp_path, cookie_secure=False) as d:
        services = Services.build(d.store, d.settings)
        practice = await new_console_practice(services, scim=False)
        token = await services.sign_in.password_step(
            practice.uuid, "admin", practice.admin_password
        )
        shown = await asyncio.gather(*[services.sign_in.enrollment(token) for _ in range(20)])
        _, state = await services.sign_in.code_flow(token)
    assert {e.secret for e in shown} == {state.totp_secret}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_two_workers_evaluate_at_most_five_guesses(backend: str, tmp_path: Path) -> None:
    """Over a real socket, guesses spread over two worker processes (no keep-alive)."""
    async with fresh_database(backend, tmp_path) as url:
        server = Server(url, tmp_path / "serve.log", workers=2, extra_env=SERVE_ENV)
        passwords, codes = (
            cli_json(server.env, "practice", "create", f"Clinic {n}", "--json") for n in (1, 2)
        )
        server.start()
        limits = httpx.Limits(max_connections=GUESSES, max_keepalive_connections=0)
        try:
            async with httpx.AsyncClient(timeout=30, limits=limits) as http:
                statuses = await password_guesses(
                    http, server.base, passwords["practice_id"], GUESSES
                )
            async with httpx.AsyncClient(timeout=30, limits=limits) as http:
                code_statuses = await code_guesses(
                    http, server.base, codes["practice_id"], codes["admin"]["password"], GUESSES
                )
        finally:
            server.stop()
        evaluated = await audited_guesses(url, passwords["practice_id"], "password")
        codes_evaluated = await audited_guesses(url, codes["practice_id"], "code")
    print(
        f"\n{backend}, 2 workers, {GUESSES} concurrent guesses: {evaluated} passwords and "
        f"{codes_evaluated} codes evaluated"
    )
    assert_held(statuses, evaluated)
    assert_held(code_statuses, codes_evaluated)


# --- rate limits on console sign-in ---------------------------------------------------------

#: Limits that never refill within a test, so each count is exact.
SLOW = 0.001


def assert_too_many(response: httpx.Response) -> None:
    """The console's own error page, 429, with ``Retry-After``."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert int(response.headers["retry-after"]) >= 1
    assert "Too many attempts" in response.text
    assert "Back to sign-in" in response.text
    assert response.headers["cache-control"] == "no-store"


async def guess(http: httpx.AsyncClient, practice_id: str, user_name: str) -> httpx.Response:
    csrf = await sign_in_page(http, "", practice_id)
    form = {"user_name": user_name, "password": "not-the-password", "csrf_token": csrf}
    return await http.post(f"/console/{practice_id}/sign-in", data=form)


async def test_sign_in_is_limited_per_account(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three attempts on one account, from anywhere; the fourth is refused unchecked and
    uncounted (it does not lock the account). Other accounts are not affected."""
    checks = Counted(signin_module.verify_password)
    monkeypatch.setattr(signin_module, "verify_password", checks)
    limits = {"sign_in_account_rate_burst": 3, "sign_in_account_rate_limit": SLOW}
    async with deployment(backend, tmp_path, cookie_secure=False, **limits) as d:
        practice = await new_console_practice(Services.build(d.store, d.settings), scim=False)
        statuses = [(await guess(d.client, practice.id, "admin")).status_code for _ in range(3)]
        async with d.client_from("203.0.113.20") as elsewhere:
            refused = await guess(elsewhere, practice.id, "Admin ")  # the same account
        other = await guess(d.client, practice.id, "someone-else")
        found = await d.store.credentials.find_by_user_name(practice.uuid, "admin")
        assert found is not None
        state = await d.store.mfa.get(practice.uuid, found[0].id)
    assert statuses == [401, 401, 401]
    assert_too_many(refused)
    assert other.status_code == 401
    assert checks.calls == 3 + 1  # the refused attempt was never checked
    assert state is not None
    assert (state.failed_attempts, state.locked_until) == (3, None)


async def test_code_attempts_draw_on_the_account_budget(backend: str, tmp_path: Path) -> None:
    limits = {"sign_in_account_rate_burst": 3, "sign_in_account_rate_limit": SLOW}
    async with deployment(backend, tmp_path, cookie_secure=False, **limits) as d:
        practice = await new_console_practice(Services.build(d.store, d.settings), scim=False)
        # The password is one attempt, two wrong codes two more: the third code is refused.
        statuses = await code_guesses(
            d.client, "", practice.id, practice.admin_password, 3, at_once=False
        )
    assert statuses == [401, 401, 429]


async def test_sign_in_is_limited_per_source_address(backend: str, tmp_path: Path) -> None:
    """Ten attempts from one address, each on another name (a spray), then 429; another
    address is not affected. Every attempt draws on the shared buckets itself, so ten
    accounts get exactly the address's ten (a lease per account would hold far more)."""
    limits = {"sign_in_rate_burst": 10, "sign_in_rate_limit": SLOW}
    async with deployment(backend, tmp_path, cookie_secure=False, **limits) as d:
        practice = await new_console_practice(Services.build(d.store, d.settings), scim=False)
        statuses = [(await guess(d.client, practice.id, f"user{i}")).status_code for i in range(10)]
        refused = await guess(d.client, practice.id, "admin")
        async with d.client_from("203.0.113.21") as elsewhere:
            other = await guess(elsewhere, practice.id, "admin")
    assert statuses == [401] * 10
    assert_too_many(refused)
    assert other.status_code == 401
