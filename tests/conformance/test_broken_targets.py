"""Proof that the suites can fail: each deliberately broken target makes exactly the checks
that guard against its fault fail, on top of whatever the unbroken server fails, and the
failure names the fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from tests.conformance import broken
from tests.conformance.conftest import failures, run

if TYPE_CHECKING:
    import httpx
    from litestar import Litestar

    from conformance.runner import RunReport
    from tests.conformance.conftest import Tenants

Breaker = Callable[[Any, "Tenants"], Any]

#: fault -> (wrapper, the checks that must catch it, what their failure must mention)
FAULTS: dict[str, tuple[Breaker, set[str], str]] = {
    "returns an unaccepted attribute": (
        lambda app, t: broken.adds_title(app),
        {"AF-001", "AF-002", "AF-003", "AF-004", "AF-005", "AF-006", "AF-007"},
        "title",
    ),
    "accepts a regenerated-away secret": (
        lambda app, t: broken.accepts_old_secret(app, t.practice.client_secret),
        {"TA-013"},
        "old secret still gets tokens",
    ),
    'ignores "active": "False" in PATCH': (
        lambda app, t: broken.ignores_string_false(app),
        {"DA-002"},
        "active is True",
    ),
    "leaks another practice's users into filtered lists": (
        lambda app, t: broken.leaks_peer_users(
            app, t.practice.scim_path, t.peer.scim_path, t.peer_token
        ),
        {"TI-003"},
        "another tenant",
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
    breaker, expected, mention = FAULTS[fault]
    baseline = failures(ours[1])
    assert not expected & baseline.keys(), "the unbroken server must pass these checks"
    async with through(breaker(app, tenants)) as client:
        report = await run(tenants.target(), client)
    failed = failures(report)
    assert failed.keys() == baseline.keys() | expected
    for check_id in expected:
        assert mention in failed[check_id], failed[check_id]
        evidence = next(r.evidence for r in report.failed if r.check.id == check_id)
        assert evidence is not None
        assert evidence.status > 0
