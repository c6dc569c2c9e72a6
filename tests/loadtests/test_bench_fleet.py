"""The fleet stage of ``scimlab bench``, short and bounded, against a real ``scimlab serve`` on
SQLite and on PostgreSQL: a small fleet holds its rate with no errors under the default rate
limits, a practice over those limits is answered 429, and the figures reach the results JSON,
BENCHMARKS.md and the command line."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from loadtests import cli
from loadtests.bench.fleet_rate import FleetLoad, fleet_lines, fleet_rate
from loadtests.bench.runner import write_reports
from server.settings import Settings
from tests.conftest import BACKENDS, POSTGRES_URL
from tests.loadtests.reports import bench_results

if TYPE_CHECKING:
    from pathlib import Path

    from loadtests.bench.config import BenchConfig

pytestmark = pytest.mark.socket

SMALL = FleetLoad(practices=3, rate=5.0, seconds=2.0, users=10)
ENTRA_REQUESTS = {"user.lookup", "user.create", "user.get", "user.update", "user.deactivate"}


@pytest.fixture(scope="module", params=BACKENDS)
async def small_fleet(request: pytest.FixtureRequest) -> dict[str, Any]:
    return await fleet_rate(str(request.param), POSTGRES_URL, SMALL)


def test_a_small_fleet_holds_its_rate_with_no_errors(small_fleet: dict[str, Any]) -> None:
    row = small_fleet
    assert row["held"] is True, row
    assert row["achieved_min"] >= 0.98 * SMALL.rate, row
    assert row["achieved_rps"] == pytest.approx(SMALL.practices * SMALL.rate, rel=0.02)
    assert row["scheduled"] == row["sent"] == row["ok"] == 30
    assert row["errors"] == row["throttled_429"] == row["unsent"] == row["unanswered"] == 0, row
    assert row["unexpected"] == {}
    assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
    assert set(row["p99_ms_by_request"]) == ENTRA_REQUESTS
    json.dumps(row)  # goes into the results JSON as it is


def test_the_fleet_runs_under_the_default_rate_limits(small_fleet: dict[str, Any]) -> None:
    defaults = Settings()
    limits = small_fleet["rate_limits"]
    assert limits["SCIMLAB_RATE_LIMIT_STORE"] == defaults.rate_limit_store != "off"
    assert float(limits["SCIMLAB_SCIM_RATE_LIMIT"]) == defaults.scim_rate_limit
    assert int(limits["SCIMLAB_SCIM_RATE_BURST"]) == defaults.scim_rate_burst


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_practice_over_the_default_limit_is_throttled(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An environment left from an unlimited benchmark must not switch the limits off.
    monkeypatch.setenv("SCIMLAB_RATE_LIMIT_STORE", "off")
    defaults = Settings()
    rate = 6 * defaults.scim_rate_limit  # the burst is gone within the first second
    load = FleetLoad(practices=1, rate=rate, seconds=2.0, users=10)
    row = await fleet_rate(backend, POSTGRES_URL, load)
    assert row["throttled_429"] > 0
    assert row["errors"] >= row["throttled_429"]
    assert row["held"] is False


def test_the_fleet_reaches_the_results_json_and_benchmarks_md(
    small_fleet: dict[str, Any], tmp_path: Path
) -> None:
    backend = small_fleet["backend"]
    json_path, markdown_path = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    results = bench_results(fleet={backend: small_fleet})
    write_reports(results, json_path, markdown_path, "scimlab bench")
    assert json.loads(json_path.read_text())["fleet"][backend] == small_fleet
    markdown = markdown_path.read_text()
    assert "Fleet: 3 practices at once, each sending 5.0 req/s open-loop for 2.0 s" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith(f"| {backend} | 15.0 |")]
    assert len(rows) == 1
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert len(cells) == 13
    assert cells[2] == str(small_fleet["achieved_rps"])
    assert cells[7] == f"{small_fleet['errors']} ({small_fleet['throttled_429']})"
    assert cells[-1] == ("yes" if small_fleet["held"] else "no")
    assert f"p99 ms by request on {backend}: user.create " in markdown


def test_no_practices_no_fleet_section() -> None:
    assert fleet_lines({}) == []


def test_the_bench_command_passes_the_fleet_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[BenchConfig] = []

    def fake_main(config: BenchConfig, *_: object) -> int:
        seen.append(config)
        return 0

    monkeypatch.setattr(cli, "main", fake_main)
    runner = CliRunner()
    options = ["--fleet-practices", "7", "--fleet-rate", "12.5", "--fleet-seconds", "3"]
    assert runner.invoke(cli.bench, options).exit_code == 0
    assert runner.invoke(cli.bench, []).exit_code == 0
    assert seen[0].fleet == FleetLoad(practices=7, rate=12.5, seconds=3.0)
    assert seen[1].fleet == FleetLoad()


@pytest.mark.parametrize("option", ["--fleet-rate", "--fleet-seconds"])
def test_the_bench_command_refuses_a_rate_or_length_of_zero(option: str) -> None:
    result = CliRunner().invoke(cli.bench, [option, "0"])
    assert result.exit_code == 2
    assert option in result.output
