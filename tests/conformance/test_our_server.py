"""The suites against our own server, in-process, on SQLite and PostgreSQL: every area passes,
only the checks that cannot apply are "not applicable", and the reports keep no secret."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

import pytest

from conformance.registry import AREAS, Area
from conformance.report import console_summary, write_reports
from conformance.runner import Outcome, RunReport

if TYPE_CHECKING:
    from pathlib import Path

    from litestar.testing import AsyncTestClient

    from tests.conformance.conftest import Tenants

#: What cannot apply to our server, and why: tokens live an hour (TA-009 would wait that
#: long; test_token_expiry.py runs it against an app whose tokens live one second).
EXPECTED_NOT_APPLICABLE = {"TA-009"}
SECRET_SHAPE = re.compile(r"\b(sat|scs|sak|sst)_[A-Za-z0-9_-]{20,}")


@pytest.mark.parametrize("area", AREAS, ids=[a.marker for a in AREAS])
def test_every_area_passes_against_our_server(ours: tuple[Tenants, RunReport], area: Area) -> None:
    _, report = ours
    failed = {r.check.id: r.message for r in report.failed if r.check.area is area}
    assert failed == {}
    assert report.counts(area)["pass"] > 0


def test_only_what_cannot_apply_is_not_applicable(ours: tuple[Tenants, RunReport]) -> None:
    _, report = ours
    assert report.ids(Outcome.NOT_APPLICABLE) == EXPECTED_NOT_APPLICABLE
    signing_in = {r.check.id for r in report.results if r.check.area is Area.SSO_LINKING}
    assert signing_in | {"DA-008", "DA-009"} <= report.ids(Outcome.PASS)


def test_reports_are_complete_and_keep_no_secret(
    ours: tuple[Tenants, RunReport], tmp_path: Path
) -> None:
    tenants, report = ours
    paths = write_reports(report, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["ok"] is report.ok
    assert {r["id"] for r in data["results"]} == {r.check.id for r in report.results}
    assert set(data["areas"]) == {a.code for a in AREAS}
    suites = ET.parse(paths["junit"]).getroot()  # noqa: S314 - our own report
    assert sum(int(s.get("tests", "0")) for s in suites) == len(report.results)
    assert len(suites.findall(".//skipped")) == len(EXPECTED_NOT_APPLICABLE)
    page = paths["html"].read_text()
    assert "<script" not in page
    assert "http-equiv" not in page
    assert all(f"{a.code} · {a.label}" in page for a in AREAS)
    texts = [p.read_text() for p in paths.values()] + [console_summary(report, verbose=True)]
    for text in texts:
        assert not SECRET_SHAPE.search(text)
        assert not any(secret in text for secret in tenants.secrets)
    assert "[redacted]" in paths["json"].read_text()


async def test_checks_leave_nothing_behind(
    ours: tuple[Tenants, RunReport], client: AsyncTestClient[Any]
) -> None:
    tenants, _ = ours
    for practice in (tenants.practice, tenants.peer):
        issued = await client.post(
            f"{practice.management_path}/tokens", headers=practice.admin_headers
        )
        headers = {"Authorization": f"Bearer {issued.json()['token']}"}
        for resource in ("Users", "Groups"):
            listing = await client.get(f"{practice.scim_path}/{resource}", headers=headers)
            assert listing.status_code == 200
            assert listing.json()["totalResults"] == 0, (practice.id, resource)
        tokens = await client.get(
            f"{practice.management_path}/tokens", headers=practice.admin_headers
        )
        # The one issued here, and for the peer the one the run was given.
        assert len(tokens.json()) == (1 if practice is tenants.practice else 2)
