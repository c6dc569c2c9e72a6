"""The cursor-walk stage of ``scimlab bench``, small and bounded, on SQLite and PostgreSQL: a
practice is walked to the end by cursor and by startIndex, and the figures reach the results
JSON, BENCHMARKS.md and the command line."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from loadtests import cli
from loadtests.bench.cursor_walk import WalkSize, cursor_walk_bench, cursor_walk_lines
from loadtests.bench.runner import write_reports
from tests.conftest import BACKENDS, POSTGRES_URL
from tests.loadtests.reports import bench_results

if TYPE_CHECKING:
    from pathlib import Path

    from loadtests.bench.config import BenchConfig

SMALL = WalkSize(users=25, page=10, index_seconds=60.0, repeats=2)


@pytest.fixture(scope="module", params=BACKENDS)
async def small_walk(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    backend = str(request.param)
    return backend, await cursor_walk_bench(backend, POSTGRES_URL, SMALL)


def test_both_walks_reach_the_end(small_walk: tuple[str, dict[str, Any]]) -> None:
    _backend, row = small_walk
    assert (row["users"], row["page"]) == (25, 10)
    for walk in ("cursor", "index"):
        assert row[walk]["pages"] == 3
        assert row[walk]["complete"] is True
        assert row[walk]["first"]["p50_ms"] > 0
        assert row[walk]["last"]["p99_ms"] >= row[walk]["last"]["p50_ms"]


def test_the_walks_reach_the_results_json_and_benchmarks_md(
    small_walk: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    backend, row = small_walk
    json_path, markdown_path = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    write_reports(bench_results(cursor_walk={backend: row}), json_path, markdown_path, "bench")
    assert json.loads(json_path.read_text())["cursor_walk"][backend] == row
    lines = markdown_path.read_text().splitlines()
    rows = [line for line in lines if line.startswith(f"| {backend} | 25 | 10 |")]
    assert [line.split("|")[4].strip() for line in rows] == ["cursor", "startIndex"]
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[8] == str(row["cursor"]["last_over_first_p99"])


def test_no_size_no_cursor_walk_section() -> None:
    assert cursor_walk_lines({}) == []


def test_the_bench_command_passes_the_cursor_walk_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[BenchConfig] = []

    def fake_main(config: BenchConfig, *_: object) -> int:
        seen.append(config)
        return 0

    monkeypatch.setattr(cli, "main", fake_main)
    runner = CliRunner()
    assert runner.invoke(cli.bench, ["--cursor-users", "0", "--cursor-page", "50"]).exit_code == 0
    assert runner.invoke(cli.bench, []).exit_code == 0
    assert (seen[0].cursor_users, seen[0].cursor_page) == (0, 50)
    assert (seen[1].cursor_users, seen[1].cursor_page) == (100_000, 1_000)
    refused = runner.invoke(cli.bench, ["--cursor-page", "0"])
    assert refused.exit_code == 2
