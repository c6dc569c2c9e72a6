"""The peers start from their scripts and speak SCIM; the compatibility page is built from
what the runs report; ``conform --profile rfc`` holds a server to RFC rules only."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from click.testing import CliRunner

from server.cli import main
from simulators.core.auth import Credentials
from simulators.core.mapping import SCIMLAB_KEPT, UNIQUE_WORK_EMAIL, compare_keys
from simulators.core.registry import find_scenario, make_dialect
from simulators.core.runner import Target, run_scenario
from simulators.core.scenario import isolate
from tests.peers.compatibility import EVERYTHING, Column, examined, render
from tests.peers.django_scim2_peer import django_scim2
from tests.peers.scimmy_peer import scimmy
from tests.simulators.conftest import scimlab_target

if TYPE_CHECKING:
    from pathlib import Path

    from litestar.testing import AsyncTestClient

    from tests.conftest import PracticeFixture
    from tests.peers.peer import Peer


def test_an_unknown_profile_is_refused() -> None:
    done = CliRunner().invoke(main, ["conform", "--scim-url", "http://x", "--profile", "x"])
    assert done.exit_code == 2


def test_the_compatibility_page_shows_each_failure_and_its_reason() -> None:
    ours = Column("scimlab", {"onboard [okta]": "pass", "E-04 [entra]": "pass"})
    peer = Column(
        "peer",
        {"onboard [okta]": "pass", "E-04 [entra]": "deactivated: -> 400 invalidValue"},
        conform={"RC-001 discovery": "404"},
        counts={"pass": 30, "fail": 1, "n/a": 2},
    )
    page = render([ours, peer], users=3, seconds=1.0)
    assert "| E-04 [entra] | pass | **FAIL** |" in page
    assert "| E-04 [entra] | deactivated: -> 400 invalidValue | not yet examined |" in page
    assert "| peer | 30 | 1 | 2 | RC-001 discovery |" in page


def test_examined_failures_match_by_scenario_and_simulator() -> None:
    assert examined("SCIMMY", "O-03 [okta]") is not None
    assert examined("SCIMMY", "X-01 [google]") is not None  # "X-01 *"
    assert examined("scim2-server", "E-08 [entra]") is not None  # "E-0[78] [entra]"
    assert examined("scim2-server", "E-06 [entra]") is None
    assert examined("SCIMMY", "O-03 [entra]") is None
    assert examined("scimlab", "O-03 [okta]") is None


async def test_e15_is_not_applicable_where_the_target_does_not_refuse_duplicate_emails(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    """RFC 7643 makes no e-mail unique: E-15's 409 is our rule, required only where kept."""
    scenario = find_scenario("E-15")
    ours = await scimlab_target("token", client, practice)
    kept = await run_scenario(scenario, make_dialect("entra"), ours)
    assert kept.passed
    assert kept.count("n/a") == 0
    assert UNIQUE_WORK_EMAIL in SCIMLAB_KEPT
    others = replace(ours, compare=compare_keys("all"))
    rfc_only = await run_scenario(isolate(scenario, "t2"), make_dialect("entra"), others)
    assert rfc_only.count("n/a") == 4
    assert all("unique:emails[work]" in r.detail for r in rfc_only.results if r.status == "n/a")


async def _onboard(peer: Peer, idp: str) -> tuple[list[str], int]:
    """What failed when ``idp`` onboarded three people, and the status a wrong token gets."""
    scenario = find_scenario("onboard")
    async with httpx.AsyncClient() as client:
        credentials = Credentials("token", token=peer.token)
        target = Target(peer.tenant(), client, credentials, peer.keeps or EVERYTHING)
        result = await run_scenario(scenario, make_dialect(idp), target, users=3)
        refused = await client.get(f"{peer.tenant()}/Users", headers={"Authorization": "Bearer no"})
    failed = [r.detail for r in result.results if r.status == "failed"]
    return [*failed, *([result.error] if result.error else [])], refused.status_code


@pytest.mark.socket
async def test_okta_onboards_on_scimmy(tmp_path: Path) -> None:
    with scimmy(tmp_path / "scimmy.log") as peer:
        assert await _onboard(peer, "okta") == ([], 401)


@pytest.mark.socket
async def test_okta_onboards_on_django_scim2(tmp_path: Path) -> None:
    with django_scim2(tmp_path / "django.log") as peer:
        assert await _onboard(peer, "okta") == ([], 401)
