"""Reports of a replay, in the forms the scenarios use: a console table, JSON, JUnit XML, and
one self-contained HTML page with a side-by-side diff of every exchange that differed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

from rich.table import Table

from simulators.core.report import report_paths

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from simulators.core.replay import Replayed, ReplayResult

__all__ = ["show_replay", "to_html", "to_json", "to_junit", "write_replay_reports"]


def _exchange(x: Replayed) -> dict[str, Any]:
    row: dict[str, Any] = {
        "seq": x.recorded.seq,
        "method": x.method,
        "path": x.path,
        "recorded_status": x.recorded.status,
        "status": x.status,
        "agrees": x.agrees,
        "elapsed_seconds": round(x.elapsed, 4),
    }
    if not x.agrees:
        row["differences"] = [
            {"where": d.where, "recorded": d.recorded, "replayed": d.replayed}
            for d in x.differences
        ]
        row["recorded_body"] = x.recorded.response_body
        row["replayed_body"] = x.response_body
        if x.error:
            row["error"] = x.error
    return row


def to_json(result: ReplayResult) -> dict[str, Any]:
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "trace": result.trace,
        "target": result.target,
        "tolerate": sorted(result.tolerate),
        "passed": result.passed,
        "exchanges": len(result.exchanges),
        "differing": len(result.differing),
        "elapsed_seconds": round(result.elapsed, 3),
        "replays": [_exchange(x) for x in result.exchanges],
    }


def to_junit(result: ReplayResult) -> str:
    """One testsuite for the trace, one testcase per exchange."""
    suites = ET.Element("testsuites", name="scimlab simulate replay")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"replay {result.trace}",
        tests=str(len(result.exchanges)),
        failures=str(len(result.differing)),
        time=f"{result.elapsed:.3f}",
    )
    for x in result.exchanges:
        case = ET.SubElement(suite, "testcase", classname="simulate.replay", name=x.name)
        if not x.agrees:
            text = "\n".join(str(d) for d in x.differences)
            ET.SubElement(case, "failure", message=text[:500]).text = text
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def _pretty(body: Any) -> str:
    return escape(body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False))


def to_html(result: ReplayResult) -> str:
    rows = "".join(
        f"<tr class={'ok' if x.agrees else 'diff'}><td>{x.recorded.seq}</td>"
        f"<td>{escape(x.method)} {escape(x.path)}</td><td>{x.recorded.status}</td>"
        f"<td>{x.status if x.status is not None else escape(x.error or '')}</td>"
        f"<td>{'agrees' if x.agrees else f'<a href=#x{x.recorded.seq}>differs</a>'}</td></tr>"
        for x in result.exchanges
    )
    diffs = "".join(
        f"<section id=x{x.recorded.seq}><h2>{escape(x.name)}</h2><ul>"
        + "".join(f"<li>{escape(str(d))}</li>" for d in x.differences)
        + "</ul><div class=side><div><h3>recorded "
        f"{x.recorded.status}</h3><pre>{_pretty(x.recorded.response_body)}</pre></div>"
        f"<div><h3>replayed {x.status if x.status is not None else 'no answer'}</h3>"
        f"<pre>{_pretty(x.response_body if x.error is None else x.error)}</pre></div></div>"
        "</section>"
        for x in result.differing
    )
    verdict = "all exchanges agree" if result.passed else f"{len(result.differing)} differ"
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>scimlab replay</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px}tr.diff{background:#fdd}"
        ".side{display:flex;gap:1em}.side>div{flex:1;min-width:0}"
        "pre{background:#f6f6f6;padding:.5em;overflow:auto}</style></head><body>"
        f"<h1>Replay of {escape(result.trace)}</h1><p>against {escape(result.target)}: "
        f"{len(result.exchanges)} exchanges, {verdict}; not compared: "
        f"{escape(', '.join(sorted(result.tolerate)) or 'nothing')}</p>"
        "<table><tr><th>seq</th><th>request</th><th>recorded</th><th>replayed</th><th></th></tr>"
        f"{rows}</table>{diffs}</body></html>"
    )


def write_replay_reports(path: Path, result: ReplayResult) -> tuple[Path, Path, Path]:
    """``--report out/run`` writes ``out/run.json``, ``out/run.xml`` and ``out/run.html``."""
    json_path, xml_path = report_paths(path)
    html_path = json_path.with_suffix(".html")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(to_json(result), indent=2) + "\n", encoding="utf-8")
    xml_path.write_text(to_junit(result) + "\n", encoding="utf-8")
    html_path.write_text(to_html(result) + "\n", encoding="utf-8")
    return json_path, xml_path, html_path


def show_replay(console: Console, result: ReplayResult) -> None:
    table = Table(title=f"scimlab simulate replay {result.trace}")
    for column in ("exchanges", "agree", "differ", "time"):
        table.add_column(column)
    table.add_row(
        str(len(result.exchanges)),
        str(len(result.exchanges) - len(result.differing)),
        str(len(result.differing)),
        f"{result.elapsed:.2f}s",
    )
    console.print(table)
    for x in result.differing:
        console.print(f"[red]DIFFERS[/] {x.name}", highlight=False)
        for d in x.differences[:5]:
            console.print(f"    {d}", highlight=False)
