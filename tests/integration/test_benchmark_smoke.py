"""The filter-latency benchmark runs end to end and prints its figures (no timing asserted:
speed is judged from the benchmark's own output, not by tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loadtests.filter_latency import run
from loadtests.stats import percentile
from tests.conftest import POSTGRES_URL

if TYPE_CHECKING:
    import pytest


async def test_filter_latency_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    rows = await run([50, 150], 10, ["sqlite", "postgresql"], POSTGRES_URL)
    assert [(r["backend"], r["users"]) for r in rows] == [
        ("sqlite", 50),
        ("sqlite", 150),
        ("postgresql", 50),
        ("postgresql", 150),
    ]
    assert all(r["requests"] == 10 for r in rows)
    assert all(float(r["p99_ms"]) >= float(r["median_ms"]) > 0 for r in rows)  # type: ignore[arg-type]
    printed = capsys.readouterr().out
    assert printed.count("p99/p99(smallest)") == 4


def test_percentile_picks_the_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 0.5) == 51.0  # index round(49.5) = 50
    assert percentile(samples, 0.99) == 99.0
    assert percentile(samples, 1.0) == 100.0
    assert percentile([3.0], 0.99) == 3.0
