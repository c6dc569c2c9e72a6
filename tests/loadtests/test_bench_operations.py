"""The operations stage of ``scimlab bench``, short and bounded: the four targets serve at once,
each operation alternates between them in rounds, the figures pool the rounds and a ratio is
the median of the per-round ratios (no speed asserted: that is the benchmark's own output)."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from loadtests import cli
from loadtests.bench.config import BenchConfig
from loadtests.bench.load import LoadResult, errors_text
from loadtests.bench.operations import (
    BASELINES,
    operations_stage,
    pool_rounds,
    ratio_of_rounds,
    turn_order,
)
from loadtests.bench.runner import utc_stamp, write_reports
from loadtests.bench.targets import OPERATIONS
from tests.conftest import POSTGRES_URL
from tests.loadtests.reports import bench_results

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.socket

SMALL = BenchConfig(
    users=20, connections=4, requests=30, seconds=20.0, rounds=2, postgres_url=POSTGRES_URL
)
TARGETS = ["bare-litestar", "scim2-server", "scimlab-sqlite", "scimlab-postgresql"]


@pytest.fixture(scope="module")
async def stage() -> dict[str, Any]:
    return await operations_stage(SMALL)


def test_every_target_runs_every_operation_in_every_round(stage: dict[str, Any]) -> None:
    for name in TARGETS:
        for operation in OPERATIONS:
            row = stage[name][operation]
            assert row["requests"] == SMALL.requests, (name, operation)
            assert len(row["rounds_rps"]) == SMALL.rounds
            assert all(rate > 0 for rate in row["rounds_rps"])
            assert row["p99_ms"] >= row["p50_ms"] > 0
            assert row["server_cpu_us"] >= 0  # CPU time comes in ticks of 10 ms: may be 0 here


def test_scimlab_answers_every_request(stage: dict[str, Any]) -> None:
    for name in ("scimlab-sqlite", "scimlab-postgresql"):
        assert {op: stage[name][op]["errors"] for op in OPERATIONS} == dict.fromkeys(OPERATIONS, 0)
        assert stage[name]["peak_rss_mb"] > 0


def test_ratios_are_the_median_of_the_rounds(stage: dict[str, Any]) -> None:
    for name in ("scimlab-sqlite", "scimlab-postgresql"):
        for operation in OPERATIONS:
            ours = stage[name][operation]["rounds_rps"]
            for key, baseline in BASELINES.items():
                theirs = stage[baseline][operation]["rounds_rps"]
                expected = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
                assert stage["ratios"][name][operation][key] == round(expected, 3)


def test_the_rounds_reach_benchmarks_md(stage: dict[str, Any], tmp_path: Path) -> None:
    results = bench_results(**stage, rounds=SMALL.rounds)
    write_reports(results, tmp_path / "results.json", tmp_path / "BENCHMARKS.md", "scimlab bench")
    markdown = (tmp_path / "BENCHMARKS.md").read_text()
    assert "each operation\nruns in 2 rounds" in markdown
    read = stage["scimlab-postgresql"]["read"]
    rounds = ", ".join(str(rate) for rate in read["rounds_rps"])
    assert f"| scimlab-postgresql | read | {read['rps']} |" in markdown
    assert f" | {read['errors']} | {read['server_cpu_us']} | " in markdown
    assert markdown.count(f" | {rounds} |") >= 1
    ratio = stage["ratios"]["scimlab-sqlite"]["create"]
    cells = f"{ratio['vs_bare']} | {ratio['vs_scim2_server']}"
    assert f"| scimlab-sqlite | create | {cells} |" in markdown


def test_each_round_starts_with_another_target() -> None:
    orders = [turn_order(TARGETS, r) for r in range(5)]
    assert [order[0] for order in orders] == [*TARGETS, TARGETS[0]]
    assert all(sorted(order) == sorted(TARGETS) for order in orders)


def test_a_ratio_follows_the_middle_round_not_an_outlier() -> None:
    # Round 2 ran while the machine stalled for one target: the median ignores it.
    assert ratio_of_rounds([100.0, 10.0, 110.0], [50.0, 50.0, 55.0]) == 2.0
    assert ratio_of_rounds([30.0], [0.0]) == 300.0  # a baseline with no answers: no division by 0


def test_server_cpu_per_request_pools_the_rounds() -> None:
    # 0.3 s over 1,000 answers and 0.1 s over 3,000: 100 µs a request, not the mean of
    # the rounds' 300 and 33.
    rounds = [
        LoadResult(latencies_ms=[1.0] * 1000, elapsed_s=1.0),
        LoadResult(latencies_ms=[2.0] * 3000, elapsed_s=1.0, errors=2),
    ]
    row = pool_rounds(rounds, [0.3, 0.1])
    assert row["server_cpu_us"] == 100.0
    assert (row["rps"], row["rounds_rps"], row["errors"]) == (2000.0, [1000.0, 3000.0], 2)
    assert pool_rounds([LoadResult()], [0.5])["server_cpu_us"] == 0.0


def test_errors_are_told_by_status_across_rounds() -> None:
    rounds = [
        LoadResult(latencies_ms=[1.0] * 3, errors=2, error_statuses=Counter({503: 1, 404: 1})),
        LoadResult(latencies_ms=[1.0], errors=1, error_statuses=Counter({503: 1})),
        LoadResult(latencies_ms=[1.0]),
    ]
    row = pool_rounds(rounds, [0.1, 0.1, 0.1])
    assert (row["errors"], row["error_statuses"]) == (3, {"404": 1, "503": 2})
    assert errors_text(row) == "3 (404: 1, 503: 2)"
    assert errors_text(pool_rounds([LoadResult(latencies_ms=[1.0])], [0.1])) == "0"


def test_the_bench_command_passes_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[BenchConfig] = []
    monkeypatch.setattr(cli, "main", lambda config, *_: seen.append(config) or 0)
    runner = CliRunner()
    assert runner.invoke(cli.bench, ["--rounds", "5"]).exit_code == 0
    assert runner.invoke(cli.bench, []).exit_code == 0
    assert [config.rounds for config in seen] == [5, BenchConfig.rounds]
    refused = runner.invoke(cli.bench, ["--rounds", "0"])
    assert refused.exit_code == 2
    assert "--rounds" in refused.output


def test_the_bench_dates_its_results_in_utc_with_z() -> None:
    east = datetime(2026, 12, 7, 17, 30, 5, 123, tzinfo=timezone(timedelta(hours=2)))
    assert utc_stamp(east) == "2026-12-07T15:30:05Z"
    assert utc_stamp().endswith("Z")
