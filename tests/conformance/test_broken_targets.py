"""Proof that the suites can fail: each deliberately broken target makes exactly the checks
that guard against its fault fail, on top of whatever the unbroken server fails, and the
failure names the fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from tests.conformance import broken, broken_saml, broken_sso
from tests.conformance.conftest import failures, run

if TYPE_CHECKING:
    import httpx
    from litestar import Litestar

    from conformance.runner import RunReport
    from tests.conformance.conftest import Tenants

Breaker = Callable[[Any, "Tenants"], Any]

# Each fault is a wrapper in front of the app, whatever database is behind it; the suite runs
# on both databases against the unbroken server (tests/conformance/test_our_server.py), so the
# proof that each fault is caught runs once, on SQLite.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True, scope="session")

AF_IDS = ("AF-001", "AF-002", "AF-003", "AF-004", "AF-005", "AF-006", "AF-007")
NO_SESSION = "did not open a session"

#: fault -> (wrapper, each check that must catch it -> what its failure must mention)
FAULTS: dict[str, tuple[Breaker, dict[str, str]]] = {
    "returns an unaccepted attribute": (
        lambda app, t: broken.adds_title(app),
        dict.fromkeys(AF_IDS, "title"),
    ),
    "accepts a regenerated-away secret": (
        lambda app, t: broken.accepts_old_secret(app, t.practice.client_secret),
        {"TA-013": "old secret still gets tokens"},
    ),
    'ignores "active": "False" in PATCH': (
        lambda app, t: broken.ignores_string_false(app),
        {"DA-002": "active is True"},
    ),
    "leaks another practice's users into filtered lists": (
        lambda app, t: broken.leaks_peer_users(
            app, t.practice.scim_path, t.peer.scim_path, t.peer_token
        ),
        {"TI-003": "another tenant"},
    ),
    "announces cursor paging but ignores cursor": (
        lambda app, t: broken.ignores_cursor(app),
        {"AF-016": "the first of two pages has no nextCursor"},
    ),
    "answers the same page for its previousCursor": (
        lambda app, t: broken.previous_cursor_stays(app),
        {"AF-017": "previousCursor answered"},
    ),
    "keeps a deactivated user's session alive": (
        lambda app, t: broken_sso.keeps_sessions_alive(app),
        {"DA-008": "open session still works"},
    ),
    "resets access level and locations on reactivation": (
        lambda app, t: broken_sso.resets_access_on_reactivation(app, t.practice.admin_api_key),
        {"DA-009": "after reactivation the account has"},
    ),
    "tells who the identity provider manages": (
        lambda app, t: broken_sso.reveals_managed_accounts(app),
        dict.fromkeys(
            ("SL-002", "SL-007"),
            "answered the SSO user differently from any other username",
        ),
    ),
    "links SSO identities by email": (
        lambda app, t: broken_sso.links_by_email(app),
        {"SL-005": "an identity that was never provisioned signed in"},
    ),
    "never applies deprovisioning of Okta users": (
        lambda app, t: broken_sso.drops_deprovisioning_of_okta_users(app),
        {
            "SL-003": "a deactivated user signed in",
            "SL-004": "a deleted user signed in",
            "DA-008": "open session still works",
        },
    ),
    "asks SSO users to link their account by hand": (
        lambda app, t: broken_sso.asks_sso_users_to_link(app),
        dict.fromkeys(("SL-001", "SL-003", "SL-004", "SL-005", "DA-008"), NO_SESSION),
    ),
    "accepts an unsigned SAML response": (
        lambda app, t: broken_saml.accepts_unsigned_saml(app),
        {"SL-011": "the unsigned attack opened a session"},
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_broken_target_fails_exactly_the_expected_checks(
    fault: str,
    app: Litestar,
    tenants: Tenants,
    ours: tuple[Tenants, RunReport],
    through: Callable[[Any], httpx.AsyncClient],
) -> None:
    breaker, expected = FAULTS[fault]
    baseline = failures(ours[1])
    assert not expected.keys() & baseline.keys(), "the unbroken server must pass these checks"
    async with through(breaker(app, tenants)) as client:
        report = await run(tenants.target(), client)
    failed = failures(report)
    assert failed.keys() == baseline.keys() | expected.keys()
    for check_id, mention in expected.items():
        assert mention in failed[check_id], failed[check_id]
        evidence = next(r.evidence for r in report.failed if r.check.id == check_id)
        assert evidence is not None
        assert evidence.status > 0
