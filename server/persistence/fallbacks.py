"""Counted fallbacks: each time a fast path of the persistence layer gives up and the
ordinary path answers instead, ``scimlab_fast_path_fallbacks_total`` says which and why, so
a regression shows on ``/metrics`` rather than only as lost speed.

prometheus_client is imported on the first fallback, not with this module: it reads
``PROMETHEUS_MULTIPROC_DIR`` when imported, which ``scimlab serve`` sets first."""

from __future__ import annotations

from functools import cache
from typing import Any

__all__ = ["count_fallback"]


@cache
def _counter() -> Any:
    from prometheus_client import Counter  # noqa: PLC0415 - see the module's docstring

    return Counter(
        "scimlab_fast_path_fallbacks",
        "Fast paths of the persistence layer that gave up, so the ordinary path answered.",
        ["path", "reason"],
    )


def count_fallback(path: str, reason: str) -> None:
    _counter().labels(path, reason).inc()
