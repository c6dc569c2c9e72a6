"""Profiles, the request a failure names, and the HTML report's inline code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
from click.testing import CliRunner

from conformance.registry import all_checks
from conformance.report import to_json
from conformance.report_html import to_html
from conformance.runner import CheckResult, Outcome, RunReport, run_checks
from conformance.target import Target
from server.cli import main

if TYPE_CHECKING:
    from pathlib import Path


def test_the_rfc_profile_holds_only_checks_that_cite_rfcs_alone() -> None:
    rfc, platform = all_checks(profile="rfc"), all_checks(profile="platform")
    assert {c.id for c in rfc} < {c.id for c in platform}
    assert all(all(p.strip().startswith("RFC ") for p in c.rule.split(";")) for c in rfc)
    # The platform's attribute policy, tenancy and IdP readiness never fail a third party.
    assert not {c.id for c in rfc} & {"AF-001", "TI-001", "IR-001", "TA-013", "SL-001"}
    assert {"RC-001", "TA-001", "AF-009"} <= {c.id for c in rfc}


async def test_a_request_that_got_no_answer_is_named() -> None:
    target = Target(scim_url="http://127.0.0.1:9/scim/v2/x", token="t")
    async with httpx.AsyncClient(timeout=5) as client:
        report = await run_checks(target, client, ids=["RC-001"], profile="rfc")
    [result] = report.results
    assert result.outcome is Outcome.FAIL
    assert result.evidence is not None
    assert result.evidence.url == "http://127.0.0.1:9/scim/v2/x/ServiceProviderConfig"
    assert "GET http://127.0.0.1:9/scim/v2/x/ServiceProviderConfig" in result.message
    page = to_html(report)
    assert "<code>GET http://127.0.0.1:9/scim/v2/x/ServiceProviderConfig</code>" in page
    assert to_json(report)["profile"] == "rfc"
    assert to_json(report)["started_at"].endswith("Z")


def test_html_renders_inline_code_and_lists_both_profiles() -> None:
    check = next(c for c in all_checks() if "``" in c.doc)
    report = RunReport(target={"scim_url": "http://x"}, profile="platform")
    report.results.append(CheckResult(check, Outcome.FAIL, 'saw ``active`` as `"False"`'))
    report.finished_at = datetime.now(UTC)
    page = to_html(report)
    assert "``" not in page
    assert "<code>active</code>" in page
    assert "<code>rfc</code>" in page
    assert "<code>platform</code> (this run)" in page


def test_conform_speaks_the_simulators_vocabulary(tmp_path: Path) -> None:
    shown = CliRunner().invoke(main, ["conform", "--help"])
    assert shown.exit_code == 0
    assert "--admin-key" in shown.output
    assert "--platform-admin" not in shown.output
    assert "--profile [rfc|platform]" in shown.output
    simulate = CliRunner().invoke(main, ["simulate", "entra", "--help"])
    assert "--platform-url" in simulate.output
    assert "--admin-key" in simulate.output
    assert "--management-url" not in simulate.output
