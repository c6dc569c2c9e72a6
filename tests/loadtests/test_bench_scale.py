"""The practice-size stage of ``scimlab bench``, short and bounded: every size serves at once,
the lookups alternate between sizes in rounds, and the p99 ratio to the smallest size is the
median of the per-round ratios (no speed asserted: that is the benchmark's own output)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from loadtests.bench.config import BenchConfig
from loadtests.bench.load import LoadResult
from loadtests.bench.runner import write_reports
from loadtests.bench.scale import scale_stage, size_row
from tests.conftest import POSTGRES_URL
from tests.loadtests.reports import bench_results

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.socket

SMALL = BenchConfig(sizes=(20, 60), size_requests=30, rounds=2, postgres_url=POSTGRES_URL)


@pytest.fixture(scope="module")
async def stage() -> dict[str, Any]:
    return await scale_stage(SMALL)


def test_every_size_is_looked_up_in_every_round(stage: dict[str, Any]) -> None:
    assert set(stage) == {"sqlite", "postgresql"}
    for rows in stage.values():
        assert set(rows) == {"20", "60"}
        for row in rows.values():
            assert row["requests"] == SMALL.size_requests
            assert row["errors"] == 0
            assert len(row["rounds_p99_ms"]) == SMALL.rounds
            assert row["p99_ms"] >= row["p50_ms"] > 0
            assert row["peak_rss_mb"] > 0
        assert rows["20"]["p99_ratio_to_smallest"] == 1.0


def test_the_size_figures_reach_benchmarks_md(stage: dict[str, Any], tmp_path: Path) -> None:
    write_reports(
        bench_results(scale=stage), tmp_path / "r.json", tmp_path / "B.md", "scimlab bench"
    )
    markdown = (tmp_path / "B.md").read_text()
    row = stage["postgresql"]["60"]
    rounds = ", ".join(str(p99) for p99 in row["rounds_p99_ms"])
    cells = f"{row['p99_ms']} | {row['p99_ratio_to_smallest']} | {rounds} | {row['peak_rss_mb']}"
    assert f"| postgresql | 60 | {row['p50_ms']} | {cells} |" in markdown


def _result(*latencies_ms: float) -> LoadResult:
    return LoadResult(latencies_ms=list(latencies_ms), elapsed_s=1.0)


def test_a_stall_in_one_round_does_not_make_the_ratio() -> None:
    smallest = [_result(1.0, 2.0), _result(1.0, 2.0), _result(1.0, 4.0)]
    # The big size's second round met a stall of the machine (90 ms).
    big = [_result(1.0, 3.0), _result(1.0, 90.0), _result(1.0, 4.0)]
    row = size_row(big, smallest)
    assert row["rounds_p99_ms"] == [3.0, 90.0, 4.0]
    assert row["p99_ratio_to_smallest"] == 1.5  # median of 1.5, 45 and 1.0
    assert row["p99_ms"] == 90.0  # the pooled figure still shows the stall
    assert row["requests"] == 6
