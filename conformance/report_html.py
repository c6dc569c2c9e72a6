"""One self-contained HTML page per run: areas, counts, every failure with its exchange.

No scripts, fonts or stylesheets are fetched: the page can be opened offline or attached to a
ticket. Every value is escaped.
"""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING

from conformance.registry import PROFILES
from conformance.runner import Outcome

if TYPE_CHECKING:
    from conformance.exchange import Exchange
    from conformance.runner import CheckResult, RunReport

__all__ = ["to_html"]

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1d2330}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}table{border-collapse:collapse}
td,th{padding:.25rem .7rem;border-bottom:1px solid #dde;text-align:left;vertical-align:top}
.pass{color:#17663a}.fail{color:#b3261e;font-weight:600}.na{color:#6b6f80}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.6rem;background:#eef}
.verdict-ok{background:#e3f4e8}.verdict-bad{background:#fbe5e3}
pre{background:#f6f7fb;padding:.7rem;overflow:auto;font-size:12px;white-space:pre-wrap}
details{margin:.3rem 0 1rem}.failure{border-left:4px solid #b3261e;padding-left:1rem}
"""
_CLASS = {Outcome.PASS: "pass", Outcome.FAIL: "fail", Outcome.NOT_APPLICABLE: "na"}
_CODE = re.compile(r"``(.+?)``|`([^`]+)`")
_PROFILE_TEXT = {
    "rfc": "only what RFC 7643/7644 and RFC 6749/6750 require",
    "platform": "the RFC checks plus the platform's rules and what identity providers need",
}


def _inline(text: str) -> str:
    """Escaped text with ``code`` (reStructuredText) or `code` (Markdown) as <code>."""
    return _CODE.sub(lambda m: f"<code>{m[1] or m[2]}</code>", escape(text, quote=False))


def _cells(*values: str, tag: str = "td") -> str:
    """A table row of already-escaped cell contents."""
    return "<tr>" + "".join(f"<{tag}>{v}</{tag}>" for v in values) + "</tr>"


def _exchange(exchange: Exchange, title: str) -> str:
    body = escape(exchange.as_text())
    return f"<details><summary>{escape(title)}</summary><pre>{body}</pre></details>"


def _failure(result: CheckResult) -> str:
    check = result.check
    parts = [
        f'<div class="failure" id="{escape(check.id)}">',
        f"<h3>{escape(check.id)} {_inline(check.title)}</h3>",
        f"<p><strong>{_inline(result.message)}</strong></p>",
        f"<p>Rule: {escape(check.rule)} (profile {escape(check.profile)})</p>",
        f"<p>{_inline(check.doc)}</p>",
    ]
    if result.evidence is not None:
        e = result.evidence
        answer = f"HTTP {e.status}" if e.status else "no answer"
        shown = f"<code>{escape(e.method)} {escape(e.url)}</code> → {answer}"
        parts.append(f"<p>The request that showed it: {shown}</p>")
        parts.append(f"<pre>{escape(e.as_text())}</pre>")
    others = [e for e in result.exchanges if e is not result.evidence]
    for index, e in enumerate(others, 1):
        parts.append(_exchange(e, f"other exchange {index}: {e.method} {e.url} → {e.status}"))
    parts.extend(f"<p>Note: {_inline(n)}</p>" for n in result.notes)
    parts.append("</div>")
    return "\n".join(parts)


def _row(result: CheckResult) -> str:
    check = result.check
    link = escape(check.id)
    if result.outcome is Outcome.FAIL:
        link = f'<a href="#{link}">{link}</a>'
    outcome = f'<span class="{_CLASS[result.outcome]}">{escape(result.outcome.value)}</span>'
    return _cells(
        link,
        _inline(check.title),
        escape(check.rule),
        escape(check.profile),
        outcome,
        _inline(result.message),
    )


def _area_table(report: RunReport) -> str:
    rows = [_cells("code", "area", "pass", "fail", "not applicable", tag="th")]
    for area in report.areas():
        c = report.counts(area)
        counts = [str(c[o.value]) for o in (Outcome.PASS, Outcome.FAIL, Outcome.NOT_APPLICABLE)]
        rows.append(_cells(area.code, escape(area.label), *counts))
    return "<table>" + "".join(rows) + "</table>"


def _sections(report: RunReport) -> str:
    sections = []
    for area in report.areas():
        head = _cells("id", "check", "rule", "profile", "result", "why", tag="th")
        rows = "".join(_row(r) for r in report.in_order() if r.check.area is area)
        badge = f"<span class=badge>marker {area.marker}</span>"
        sections.append(f"<h2>{area.code} · {escape(area.label)} {badge}</h2>")
        sections.append(f"<table>{head}{rows}</table>")
    return "\n".join(sections)


def _profiles(report: RunReport) -> str:
    rows = [_cells("profile", "checks", "", tag="th")]
    for name in PROFILES:
        ran = " (this run)" if name == report.profile else ""
        rows.append(_cells(f"<code>{name}</code>{ran}", escape(_PROFILE_TEXT[name]), ""))
    return "<table>" + "".join(rows) + "</table>"


def to_html(report: RunReport) -> str:
    counts = report.counts()
    verdict = "verdict-ok" if report.ok else "verdict-bad"
    summary = "no check failed" if report.ok else f"{counts['fail']} check(s) failed"
    target = "".join(_cells(escape(k), escape(str(v))) for k, v in report.target.items() if v)
    failures = "\n".join(_failure(r) for r in report.failed) or "<p>None.</p>"
    started = escape(report.started_at.isoformat(timespec="seconds"))
    run_id = escape(report.run_id)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>scimlab conformance {run_id}</title>
<style>{_STYLE}</style></head><body>
<h1>scimlab conformance · run {run_id}</h1>
<p class="{verdict}" style="padding:.6rem">{escape(summary)}: {counts["pass"]} passed,
{counts["fail"]} failed, {counts["not applicable"]} not applicable, in {report.duration_s:.1f} s
(started {started}).</p>
<table>{target}</table>
<h2>Profiles</h2>
{_profiles(report)}
<h2>Areas</h2>
{_area_table(report)}
<h2>Failures</h2>
{failures}
{_sections(report)}
</body></html>
"""
