"""Reports of a run: a console summary, JSON, JUnit XML, and (in ``report_html``) one
self-contained HTML page. Everything written has already been redacted by the session."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from conformance.runner import Outcome

if TYPE_CHECKING:
    from pathlib import Path

    from conformance.runner import CheckResult, RunReport

__all__ = ["console_summary", "to_json", "to_junit", "write_reports"]

_MARK = {Outcome.PASS: "pass", Outcome.FAIL: "FAIL", Outcome.NOT_APPLICABLE: "n/a "}


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with ``Z``, as every JSON output of scimlab writes dates."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_json(report: RunReport) -> dict[str, Any]:
    return {
        "run_id": report.run_id,
        "profile": report.profile,
        "started_at": iso_utc(report.started_at),
        "finished_at": iso_utc(report.finished_at) if report.finished_at else None,
        "duration_s": round(report.duration_s, 3),
        "target": report.target,
        "ok": report.ok,
        "counts": report.counts(),
        "areas": {
            area.code: {"name": area.label, "marker": area.marker, "counts": report.counts(area)}
            for area in report.areas()
        },
        "results": [r.as_dict() for r in report.in_order()],
    }


def _failure_text(result: CheckResult) -> str:
    lines = [result.message, f"rule: {result.check.rule}"]
    if result.evidence is not None:
        lines += ["", result.evidence.as_text()]
    return "\n".join(lines)


def to_junit(report: RunReport) -> str:
    """JUnit XML: one ``testsuite`` per area, one ``testcase`` per check; "not applicable"
    is reported as ``skipped`` with its reason."""
    suites = ET.Element("testsuites", name="scimlab conformance", time=f"{report.duration_s:.3f}")
    for area in report.areas():
        chosen = [r for r in report.in_order() if r.check.area is area]
        counts = report.counts(area)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"{area.code} {area.label}",
            tests=str(len(chosen)),
            failures=str(counts[Outcome.FAIL.value]),
            skipped=str(counts[Outcome.NOT_APPLICABLE.value]),
            errors="0",
            time=f"{sum(r.duration_s for r in chosen):.3f}",
        )
        for result in chosen:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"conformance.{area.marker}",
                name=f"{result.check.id} {result.check.title}",
                time=f"{result.duration_s:.3f}",
            )
            if result.outcome is Outcome.FAIL:
                failure = ET.SubElement(case, "failure", message=result.message)
                failure.text = _failure_text(result)
            elif result.outcome is Outcome.NOT_APPLICABLE:
                ET.SubElement(case, "skipped", message=f"not applicable: {result.message}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def console_summary(report: RunReport, *, verbose: bool = False) -> str:
    """A readable summary: a line per area, each failure with its reason and evidence line."""
    lines = [
        f"scimlab conformance against {report.target['scim_url']}  "
        f"(profile {report.profile}, run {report.run_id})",
        "",
    ]
    for area in report.areas():
        c = report.counts(area)
        lines.append(
            f"  {area.code}  {area.label:<20} {c['pass']:>3} pass  {c['fail']:>3} fail  "
            f"{c['not applicable']:>3} not applicable"
        )
    shown = [r for r in report.in_order() if verbose or r.outcome is Outcome.FAIL]
    if shown:
        lines.append("")
    for result in shown:
        lines.append(f"  {_MARK[result.outcome]}  {result.check.id}  {result.check.title}")
        if result.message:
            lines.append(f"        {result.message}")
        if result.outcome is Outcome.FAIL and result.evidence is not None:
            e = result.evidence
            lines.append(f"        showed by: {e.method} {e.url} -> HTTP {e.status}")
    c = report.counts()
    lines += [
        "",
        f"  {len(report.results)} checks: {c['pass']} passed, {c['fail']} failed, "
        f"{c['not applicable']} not applicable in {report.duration_s:.1f} s",
    ]
    return "\n".join(lines)


def write_reports(report: RunReport, directory: Path) -> dict[str, Path]:
    """JSON, JUnit XML and HTML files for the run, named after its id."""
    from conformance.report_html import to_html  # noqa: PLC0415 - keeps the import graph flat

    directory.mkdir(parents=True, exist_ok=True)
    stem = f"conformance-{report.started_at:%Y%m%d-%H%M%S}-{report.run_id}"
    paths = {
        "json": directory / f"{stem}.json",
        "junit": directory / f"{stem}.xml",
        "html": directory / f"{stem}.html",
    }
    paths["json"].write_text(json.dumps(to_json(report), indent=2, ensure_ascii=False))
    paths["junit"].write_text(to_junit(report))
    paths["html"].write_text(to_html(report))
    return paths
