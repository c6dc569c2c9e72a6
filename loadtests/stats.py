"""Latency figures shared by the load tests and the benchmark runner.

Kept free of server imports: ``scimlab serve`` reaches the benchmark commands through the
CLI, and prometheus-client must not be imported before it has chosen multi-process mode.
"""

from __future__ import annotations

__all__ = ["percentile"]


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile (0.0 of no samples)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
