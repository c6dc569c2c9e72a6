"""Load shapes: steady, step ramp, and a sync storm. Each stops by itself.

Parameters come from the environment so the same locustfile serves all three:
``SCIMLAB_LOAD_USERS`` (peak users), ``SCIMLAB_LOAD_SECONDS`` (total time),
``SCIMLAB_LOAD_STEPS`` (ramp steps).
"""

from __future__ import annotations

import os

from locust import LoadTestShape

__all__ = ["SteadyShape", "StepRampShape", "SyncStormShape"]


def _setting(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _elapsed(shape: LoadTestShape) -> float:
    """Seconds since the run started (locust's own method is untyped)."""
    elapsed: float = shape.get_run_time()  # type: ignore[no-untyped-call]
    return elapsed


class SteadyShape(LoadTestShape):
    """All users at a constant count for the whole run."""

    abstract = True

    def tick(self) -> tuple[int, float] | None:
        users = int(_setting("SCIMLAB_LOAD_USERS", 10))
        if _elapsed(self) >= _setting("SCIMLAB_LOAD_SECONDS", 60):
            return None
        return users, users


class StepRampShape(LoadTestShape):
    """Users grow in equal steps to the peak, each step held the same time."""

    abstract = True

    def tick(self) -> tuple[int, float] | None:
        total = _setting("SCIMLAB_LOAD_SECONDS", 60)
        steps = max(1, int(_setting("SCIMLAB_LOAD_STEPS", 5)))
        peak = int(_setting("SCIMLAB_LOAD_USERS", 10))
        elapsed = _elapsed(self)
        if elapsed >= total:
            return None
        step = min(steps, int(elapsed // (total / steps)) + 1)
        users = max(1, peak * step // steps)
        return users, users


class SyncStormShape(LoadTestShape):
    """Every practice starts its initial cycle at the same moment: the peak at once."""

    abstract = True

    def tick(self) -> tuple[int, float] | None:
        users = int(_setting("SCIMLAB_LOAD_USERS", 10))
        if _elapsed(self) >= _setting("SCIMLAB_LOAD_SECONDS", 60):
            return None
        return users, float(users * 100)
