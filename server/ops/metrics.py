"""Prometheus metrics per route, status and practice (Litestar's Prometheus plugin).

``scimlab_requests_total``, ``scimlab_request_duration_seconds`` and
``scimlab_requests_in_progress`` carry ``method``, ``path`` (the route template, not the raw
path), ``status_code``, ``app_name`` and ``practice``: the practice id of the URL, or ``-``
where the route names none or the request was not authenticated (401), so that unknown
callers cannot grow the number of series. ``GET /metrics`` serves them (behind a bearer
token when ``SCIMLAB_METRICS_TOKEN`` is set); with several worker processes,
``server.ops.serving`` makes every worker's samples count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from litestar.exceptions import NotAuthorizedException
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.plugins.prometheus.middleware import PrometheusMiddleware

from server.ops.status import StatusWatch
from server.security import constant_time_equals

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler
    from litestar.types import Receive, Scope, Send

__all__ = [
    "Measure",
    "MetricsController",
    "ScimlabPrometheusMiddleware",
    "metrics_config",
    "metrics_controller",
]

_NO_PRACTICE = "-"


class _Series:
    """One label set's error and request counters and duration histogram."""

    __slots__ = ("_count", "_duration", "_errors")

    def __init__(self, errors: Any, count: Any, duration: Any) -> None:
        self._errors, self._count, self._duration = errors, count, duration

    def record(self, seconds: float, *, failed: bool) -> None:
        if failed:
            self._errors.inc()
        self._count.inc()
        self._duration.observe(seconds)


@dataclass(slots=True)
class Measure:
    """One request being counted: what ``end`` labels it with, and when it began."""

    in_progress: Any
    method: str
    path: str
    practice: object
    started: float


class ScimlabPrometheusMiddleware(PrometheusMiddleware):
    """Litestar's middleware with the ``practice`` label settled once the status is known.

    The labelled children are kept per label values: asking prometheus_client for them on
    every request (a lock and a validation each time) cost more than the counting itself.
    """

    _children: ClassVar[dict[tuple[Any, ...], _Series]] = {}
    _in_progress: ClassVar[dict[tuple[Any, ...], Any]] = {}

    def _labels(self, method: str, path: str, status: int, practice: str) -> dict[str, Any]:
        return {
            "method": method,
            "path": path,
            "status_code": status,
            "app_name": self._config.app_name,
            "practice": practice,
        }

    def _finished(self, method: str, path: str, status: int, practice: str) -> _Series:
        key = (self._config.app_name, method, path, status, practice)
        series = self._children.get(key)
        if series is None:
            labels = self._labels(method, path, status, practice)
            values = [*labels.values()]
            series = _Series(
                self.requests_error_count(labels).labels(*values),
                self.request_count(labels).labels(*values),
                self.request_time(labels).labels(*values),
            )
            self._children[key] = series
        return series

    def begin(self, scope: Scope) -> Measure:
        """A request to a route has come in (its scope routed): its in-progress gauge is
        raised by one, and its clock started, until ``end``."""
        method = str(scope.get("method") or scope["type"])
        path: str = scope["path_template"]
        key = (self._config.app_name, method, path)
        in_progress = self._in_progress.get(key)
        if in_progress is None:
            labels = self._labels(method, path, 200, _NO_PRACTICE)
            in_progress = self.requests_in_progress(labels).labels(*labels.values())
            self._in_progress[key] = in_progress
        in_progress.inc()
        practice = scope.get("path_params", {}).get("practice_id")
        return Measure(in_progress, method, path, practice, time.perf_counter())

    def end(self, measure: Measure, status: int) -> None:
        """The request has ended with ``status`` (0: it sent no response, counted as 500)."""
        measure.in_progress.dec()
        status = status or 500
        practice = measure.practice
        label = str(practice) if practice is not None and status != 401 else _NO_PRACTICE
        series = self._finished(measure.method, measure.path, status, label)
        series.record(time.perf_counter() - measure.started, failed=status >= 500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watch = StatusWatch(send)
        measure = self.begin(scope)
        try:
            await self.app(scope, receive, watch)
        finally:
            self.end(measure, watch.status)


def metrics_config() -> PrometheusConfig:
    return PrometheusConfig(
        app_name="scimlab",
        prefix="scimlab",
        group_path=True,
        labels={"practice": _NO_PRACTICE},
        exclude=["^/metrics"],
        middleware_class=ScimlabPrometheusMiddleware,
    )


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


def metrics_controller(token: str) -> type[PrometheusController]:
    """``/metrics`` as it is (no token), or answering 401 unless the request carries
    ``Authorization: Bearer <token>`` (compared in constant time)."""
    if not token:
        return MetricsController

    def bearer(connection: ASGIConnection[Any, Any, Any, Any], __: BaseRouteHandler) -> None:
        scheme, _, offered = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not constant_time_equals(offered.strip(), token):
            raise NotAuthorizedException(
                "a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
            )

    class GuardedMetricsController(MetricsController):
        guards = [bearer]  # noqa: RUF012 - Litestar's own class attribute

    return GuardedMetricsController
