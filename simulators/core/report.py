"""Run results for people and for CI: a summary table, JSON, JUnit XML, one HTML page, and a
transcript."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from rich.console import Console

    from simulators.core.runner import RunResult

__all__ = [
    "RunInfo",
    "report_paths",
    "show_results",
    "summary_table",
    "to_html",
    "to_json",
    "to_junit",
    "write_reports",
    "write_transcript",
]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class RunInfo:
    """What was run: where, as which IdP, with which options, by which scimlab, and when;
    and the scenarios asked for that were not played (``strict``: they fail the run)."""

    target: str
    idp: str
    variants: tuple[str, ...]
    options: dict[str, Any]
    version: str
    started: datetime
    finished: datetime
    skipped: list[Any] = field(default_factory=list)  # simulators.plan.Skipped
    strict: bool = False

    def passed(self, results: list[RunResult]) -> bool:
        return all(r.passed for r in results) and not (self.strict and self.skipped)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "idp": self.idp,
            "variants": list(self.variants),
            "options": self.options,
            "scimlab_version": self.version,
            "started_at": _iso(self.started),
            "finished_at": _iso(self.finished),
        }


def _run(result: RunResult) -> dict[str, Any]:
    return {
        "scenario": result.scenario.name,
        "status": "passed" if result.passed else ("error" if result.error else "failed"),
        "title": result.scenario.title,
        "source": result.scenario.source,
        "idp": result.dialect.idp,
        "dialect": result.dialect.name,
        "passed": result.passed,
        "error": result.error,
        "elapsed_seconds": round(result.elapsed, 3),
        "simulated_seconds": round(result.simulated, 3),
        "requests": len(result.recorder.exchanges),
        "expectations": [
            {"id": r.id, "name": r.name, "kind": r.kind, "status": r.status, "detail": r.detail}
            for r in result.results
        ],
    }


def to_json(results: list[RunResult], info: RunInfo) -> dict[str, Any]:
    skipped = [{**asdict(s), "scenario": s.name, "status": "skipped"} for s in info.skipped]
    for entry in skipped:
        del entry["name"]
    return {
        "run": info.as_dict(),
        "passed": info.passed(results),
        "runs": [_run(r) for r in results],
        "skipped": skipped,
    }


def _properties(parent: ET.Element, info: RunInfo) -> None:
    properties = ET.SubElement(parent, "properties")
    values = {**info.as_dict(), "variants": ",".join(info.variants)}
    values |= {f"option.{k}": json.dumps(v) for k, v in values.pop("options").items()}
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=str(value))


def to_junit(results: list[RunResult], info: RunInfo) -> str:
    """One testsuite per scenario asked for, one testcase per expectation; n/a expectations
    and skipped scenarios are ``skipped`` (``failure`` with ``--strict``)."""
    suites = ET.Element("testsuites", name="scimlab simulate")
    for result in results:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"{result.scenario.name} [{result.dialect.name}]",
            tests=str(len(result.results) + (1 if result.error else 0)),
            failures=str(result.count("failed") + (1 if result.error else 0)),
            skipped=str(result.count("n/a")),
            time=f"{result.elapsed:.3f}",
            timestamp=_iso(info.started),
        )
        _properties(suite, info)
        classname = f"simulate.{result.dialect.idp}.{result.scenario.name}"
        if result.error:
            case = ET.SubElement(suite, "testcase", classname=classname, name="steps")
            ET.SubElement(case, "failure", message=result.error).text = result.error
        for r in result.results:
            case = ET.SubElement(suite, "testcase", classname=classname, name=f"{r.id}: {r.name}")
            if r.status == "failed":
                ET.SubElement(case, "failure", message=r.detail[:500]).text = r.detail
            elif r.status == "n/a":
                ET.SubElement(case, "skipped", message=r.detail)
    for skipped in info.skipped:
        failed = info.strict
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"{skipped.name} [{info.idp}]",
            tests="1",
            failures="1" if failed else "0",
            skipped="0" if failed else "1",
            time="0.000",
            timestamp=_iso(info.started),
        )
        _properties(suite, info)
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"simulate.{info.idp}.{skipped.name}",
            name=f"{skipped.name}: {skipped.title}",
        )
        message = f"not played: {skipped.reason}"
        ET.SubElement(case, "failure" if failed else "skipped", message=message).text = message
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def to_html(results: list[RunResult]) -> str:
    """One self-contained page: a row per run, then each run's expectations."""
    rows, sections = [], []
    for number, r in enumerate(results, 1):
        verdict = "PASS" if r.passed else "ERROR" if r.error else "FAIL"
        rows.append(
            f"<tr class={verdict.lower()}><td><a href=#r{number}>{escape(r.scenario.name)}</a>"
            f"</td><td>{escape(r.dialect.name)}</td><td>{verdict}</td>"
            f"<td>{r.count('passed')}</td><td>{r.count('failed')}</td><td>{r.count('n/a')}</td>"
            f"<td>{len(r.recorder.exchanges)}</td><td>{r.elapsed:.2f}s</td></tr>"
        )
        items = "".join(
            f"<li class={e.status.replace('/', '')}>{escape(e.status)} {escape(e.id)} "
            f"({escape(e.name)}){': ' + escape(e.detail) if e.detail else ''}</li>"
            for e in r.results
        )
        error = f"<p class=fail>{escape(r.error)}</p>" if r.error else ""
        sections.append(
            f"<section id=r{number}><h2>{escape(r.scenario.name)} [{escape(r.dialect.name)}]"
            f"</h2><p>{escape(r.scenario.title)}</p>{error}<ul>{items}</ul></section>"
        )
    head = "".join(
        f"<th>{c}</th>"
        for c in ("scenario", "dialect", "result", "passed", "failed", "n/a", "requests", "time")
    )
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>scimlab simulate</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px}.fail,.error,.failed{background:#fdd}"
        ".na{color:#777}</style></head><body><h1>scimlab simulate</h1>"
        f"<table><tr>{head}</tr>{''.join(rows)}</table>{''.join(sections)}</body></html>"
    )


def report_paths(path: Path) -> tuple[Path, Path]:
    """``--report out/run`` (or ``out/run.json``) writes ``out/run.json`` and ``out/run.xml``."""
    stem = path.with_suffix("") if path.suffix in (".json", ".xml") else path
    return stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".xml")


def write_reports(path: Path, results: list[RunResult], info: RunInfo) -> tuple[Path, Path, Path]:
    """``--report out/run`` writes ``out/run.json``, ``out/run.xml`` and ``out/run.html``."""
    json_path, xml_path = report_paths(path)
    html_path = json_path.with_suffix(".html")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(to_json(results, info), indent=2) + "\n", encoding="utf-8")
    xml_path.write_text(to_junit(results, info) + "\n", encoding="utf-8")
    html_path.write_text(to_html(results) + "\n", encoding="utf-8")
    return json_path, xml_path, html_path


def summary_table(results: list[RunResult], info: RunInfo | None = None) -> Table:
    table = Table(title="scimlab simulate", show_lines=False)
    for column in ("scenario", "dialect", "result", "passed", "failed", "n/a", "requests", "time"):
        table.add_column(
            column, justify="right" if column in ("passed", "failed", "n/a") else "left"
        )
    for r in results:
        verdict = "[green]PASS[/]" if r.passed else "[red]FAIL[/]"
        if r.error:
            verdict = "[red]ERROR[/]"
        table.add_row(
            r.scenario.name,
            r.dialect.name,
            verdict,
            str(r.count("passed")),
            str(r.count("failed")),
            str(r.count("n/a")),
            str(len(r.recorder.exchanges)),
            f"{r.elapsed:.2f}s",
        )
    for skipped in info.skipped if info else []:
        verdict = "[red]SKIPPED (strict)[/]" if info and info.strict else "[yellow]SKIPPED[/]"
        table.add_row(skipped.name, info.idp if info else "", verdict, "", "", "", "", "")
    return table


def show_results(console: Console, results: list[RunResult], info: RunInfo | None = None) -> None:
    """The summary table, then every failed expectation with its evidence."""
    console.print(summary_table(results, info))
    for skipped in info.skipped if info else []:
        console.print(f"[yellow]SKIPPED[/] {skipped.name}: {skipped.reason}", highlight=False)
    for result in results:
        if result.error:
            console.print(f"[red]{result.scenario.name}[/]: {result.error}", highlight=False)
        for r in result.results:
            if r.status == "failed":
                console.print(f"[red]FAILED[/] {r.id} ({r.name}): {r.detail}", highlight=False)


def write_transcript(path: Path, results: list[RunResult]) -> None:
    """Every exchange of every run, secrets redacted: one JSON object per line when ``path``
    ends in ``.jsonl`` (each with its scenario and dialect), readable text otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        lines = [
            json.dumps(
                {"scenario": r.scenario.name, "dialect": r.dialect.name, **exchange},
                ensure_ascii=False,
                default=str,
            )
            for r in results
            for exchange in r.recorder.as_dicts()
        ]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return
    parts = [
        f"=== {r.scenario.name} [{r.dialect.name}] ===\n{r.recorder.transcript()}" for r in results
    ]
    path.write_text("\n".join(parts), encoding="utf-8")
