"""Prometheus metrics per route, status and practice (Litestar's Prometheus plugin).

``scimlab_requests_total``, ``scimlab_request_duration_seconds`` and
``scimlab_requests_in_progress`` carry ``method``, ``path`` (the route template, not the raw
path), ``status_code``, ``app_name`` and ``practice``: the practice id of the URL, or ``-``
where the route names none or the request was not authenticated (401), so that unknown
callers cannot grow the number of series. ``GET /metrics`` serves them; with several worker
processes, ``server.ops.serving`` makes every worker's samples count.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from litestar.connection.request import Request
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.plugins.prometheus.middleware import PrometheusMiddleware

if TYPE_CHECKING:
    from litestar.types import Message, Receive, Scope, Send

__all__ = ["MetricsController", "metrics_config"]

_NO_PRACTICE = "-"


class ScimlabPrometheusMiddleware(PrometheusMiddleware):
    """Litestar's middleware with the ``practice`` label settled once the status is known."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request[Any, Any, Any](scope, receive)
        labels: dict[str, str | int | float] = {
            **self._get_default_labels(request),
            "practice": _NO_PRACTICE,
        }
        practice = scope.get("path_params", {}).get("practice_id")
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        gauge = self.requests_in_progress(labels).labels(*labels.values())
        gauge.inc()
        try:
            await self.app(scope, receive, watch)
        finally:
            gauge.dec()
            labels["status_code"] = status
            if practice is not None and status != 401:
                labels["practice"] = str(practice)
            values = [*labels.values()]
            if status >= 500:
                self.requests_error_count(labels).labels(*values).inc()
            self.request_count(labels).labels(*values).inc()
            self.request_time(labels).labels(*values).observe(time.perf_counter() - started)


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
