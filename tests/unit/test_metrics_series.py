"""The metrics middleware updates its counters and histogram through their values
(``server.ops.metrics._Series``); that must expose what ``inc()`` and ``observe()`` do."""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from server.ops.metrics import _Series

LABELS = ["method", "path", "status_code"]


def _metrics(registry: CollectorRegistry) -> tuple[Counter, Counter, Histogram]:
    return (
        Counter("errors", "errors", LABELS, registry=registry),
        Counter("requests", "requests", LABELS, registry=registry),
        Histogram("duration", "duration", LABELS, registry=registry),
    )


def _exposition(registry: CollectorRegistry) -> list[str]:
    """Every sample but the creation times, which differ between two registries."""
    lines = generate_latest(registry).decode().splitlines()
    return [line for line in lines if "_created" not in line]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_series_exposes_what_inc_and_observe_do(seed: int) -> None:
    rng = random.Random(seed)
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    errors, count, duration = _metrics(ours)
    their_errors, their_count, their_duration = _metrics(theirs)
    bounds = [b for b in Histogram.DEFAULT_BUCKETS if b != float("inf")]
    amounts = [0.0, *bounds, *(b + 1e-9 for b in bounds), 1e6, -0.5]
    amounts += [rng.expovariate(20) for _ in range(500)]
    for amount in amounts:
        labels = ("GET", "/Users/{id}", rng.choice(["200", "404", "500"]))
        failed = labels[2] == "500"
        series = _Series(*(m.labels(*labels) for m in (errors, count, duration)))
        series.record(amount, failed=failed)
        their_error_count = their_errors.labels(*labels)  # made for every label set, as before
        if failed:
            their_error_count.inc()
        their_count.labels(*labels).inc()
        their_duration.labels(*labels).observe(amount)
    assert _exposition(ours) == _exposition(theirs)
    assert any("duration_bucket" in line for line in _exposition(ours))
