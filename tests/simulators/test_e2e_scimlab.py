"""Every built-in scenario, with every simulator that plays it, against our server in-process.

The ``client`` and ``practice`` fixtures run each test on SQLite and on PostgreSQL. Entra signs
in with OAuth client credentials, Okta with HTTP Basic, Google with a static token.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from simulators.core.registry import builtin_scenarios, make_dialect
from simulators.core.runner import Target, run_scenario
from tests.conformance import broken
from tests.conformance.conftest import through as through  # noqa: PLC0414 - a fixture, used by name
from tests.simulators.conftest import BASE, credentials_for, scimlab_target

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from simulators.core.scenario import Scenario
    from tests.conftest import PracticeFixture

AUTH = {"entra": "oauth", "okta": "basic", "google": "token"}
SMALL = {"onboard": 8, "O-09": 120}  # keep the suite fast; the defaults stay for the CLI


def _cases() -> list[Any]:
    cases = []
    for scenario in builtin_scenarios():
        for idp in scenario.idps or ("entra", "okta", "google"):
            cases.append(pytest.param(scenario, idp, id=f"{scenario.name}-{idp}"))
    return cases


def describe(result: Any) -> str:
    lines = [f"{result.scenario.name} on {result.dialect.name}: error={result.error}"]
    lines += [f"  {r.status} {r.id}: {r.detail}" for r in result.results if r.status != "passed"]
    return "\n".join(lines)


@pytest.mark.parametrize(("scenario", "idp"), _cases())
async def test_builtin_scenario_holds_on_our_server(
    scenario: Scenario, idp: str, client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    target = await scimlab_target(AUTH[idp], client, practice)
    result = await run_scenario(
        scenario, make_dialect(idp, scenario.variants), target, users=SMALL.get(scenario.name)
    )
    assert result.passed, describe(result)
    assert result.count("passed") >= 2


@pytest.mark.parametrize(
    ("idp", "auth"),
    [
        ("entra", "oauth"),
        ("entra", "oauth-basic"),
        ("entra", "token"),
        ("okta", "basic"),
        ("okta", "token"),
        ("google", "token"),
    ],
)
async def test_every_auth_mode_of_every_idp_onboards(
    idp: str, auth: str, client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    target = await scimlab_target(auth, client, practice)
    scenario = next(s for s in builtin_scenarios() if s.name == "onboard")
    result = await run_scenario(scenario, make_dialect(idp), target, users=3)
    assert result.passed, describe(result)
    scim = [e for e in result.recorder.exchanges if e.label != "auth.token"]
    sent = [e.request_headers.get("authorization", "") for e in scim]
    scheme = {"basic": "Basic", "oauth-basic": "Bearer", "oauth": "Bearer", "token": "Bearer"}
    assert sent
    assert all(h.startswith(scheme[auth]) for h in sent)
    tokens = result.recorder.select(label="auth.token")
    assert bool(tokens) == auth.startswith("oauth")
    if auth == "oauth-basic":
        assert all(t.request_headers["authorization"].startswith("Basic") for t in tokens)


async def test_x01_drives_real_saml_and_oidc_sign_ins(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    """Okta has both logins (SAML NameID = userName, OIDC sub = externalId): X-01 signs the
    provisioned person in through each, then each is refused once the directory disables
    them; the SSO configuration the run made is removed afterwards."""
    scenario = next(s for s in builtin_scenarios() if s.name == "X-01")
    target = await scimlab_target("basic", client, practice)
    result = await run_scenario(scenario, make_dialect("okta"), target)
    assert result.passed, describe(result)
    signins = [e for e in result.recorder.exchanges if e.label.endswith(".signin")]
    seen = {(e.label, e.step, e.status, e.response_body["session"]) for e in signins}
    assert seen == {
        ("sso.saml.signin", "signin", 303, True),
        ("sso.oidc.signin", "signin", 303, True),
        ("sso.saml.signin", "signin-disabled", 403, False),
        ("sso.oidc.signin", "signin-disabled", 403, False),
    }
    shown = await client.get(
        f"{practice.management_path.rsplit('/', 1)[0]}/sso", headers=practice.admin_headers
    )
    assert shown.status_code == 404


async def test_okta_import_walks_by_cursor_where_the_server_announces_it(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    """Our server announces RFC 9865 cursors, so O-09's import pages by ``cursor`` (no
    ``startIndex``), follows ``nextCursor`` to the last page, and sees every user once."""
    target = await scimlab_target("basic", client, practice)
    scenario = next(s for s in builtin_scenarios() if s.name == "O-09")
    result = await run_scenario(scenario, make_dialect("okta"), target, users=120)
    assert result.passed, describe(result)
    pages = result.recorder.select(label="import.page")
    assert len(pages) == 2  # 120 users in pages of 100
    assert all("cursor=" in p.url and "startIndex" not in p.url for p in pages)
    assert "nextCursor" in pages[0].response_body
    assert "nextCursor" not in pages[-1].response_body


async def test_okta_import_pages_by_start_index_where_cursors_are_not_announced(
    app: Litestar,
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    through: Callable[[Any], httpx.AsyncClient],
) -> None:
    """The same import against our server with ``pagination.cursor`` hidden from its
    ServiceProviderConfig: it pages by ``startIndex``, as before."""

    async def hide_cursors(scope: Any, result: Any) -> Any:
        status, headers, body = result
        if not scope["path"].endswith("/ServiceProviderConfig"):
            return result
        config = json.loads(body)
        config["pagination"]["cursor"] = False
        return status, headers, json.dumps(config).encode()

    credentials = await credentials_for("basic", client, practice)
    async with through(broken.wrap(app, response=hide_cursors)) as http:
        target = Target(f"{BASE}{practice.scim_path}", http, credentials)
        scenario = next(s for s in builtin_scenarios() if s.name == "O-09")
        result = await run_scenario(scenario, make_dialect("okta"), target, users=120)
    assert result.passed, describe(result)
    pages = result.recorder.select(label="import.page")
    assert len(pages) == 2
    assert all("startIndex=" in p.url and "cursor" not in p.url for p in pages)
