"""``OpsPlugin``: logs, request ids, security headers, deadlines, metrics, rate limits and
database-fault handling, added to an app in one line (``plugins=[OpsPlugin(settings)]``).

It sets Litestar's logging to JSON lines; at start-up (the app's lifespan) it puts
``EdgeMiddleware`` around the whole app (Litestar's own middleware only runs for matched
routes; the edge must also see unmatched ones), with the app's lane routes
(``server.ops.lane``) bound to it, and, only when a practice's traffic is to be recorded,
``TrafficRecorder`` (``server.ops.recording``) around the edge. The rate-limit store
closes at shutdown.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

from litestar.middleware.base import DefineMiddleware
from litestar.plugins import InitPlugin

from server.ops.buckets import BucketStore, FailoverBuckets, MemoryBuckets
from server.ops.edge import EdgeMiddleware
from server.ops.faults import FAULT_HANDLERS
from server.ops.lane import Lane, LaneRoute
from server.ops.leases import LeasedBuckets
from server.ops.logs import install_request_ids, logging_config
from server.ops.metrics import MetricsController, metrics_config
from server.ops.ratelimit import RateLimitMiddleware, RateLimits
from server.ops.recording import TrafficRecorder, recorder_for
from server.persistence.rate_buckets import PostgresBuckets

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar
    from litestar.config.app import AppConfig
    from litestar.types import ASGIApp

    from server.settings import Settings

__all__ = ["OpsPlugin", "bucket_store", "rate_limits"]


def rate_limits(settings: Settings) -> RateLimits:
    return RateLimits(
        scim_rate=settings.scim_rate_limit,
        scim_burst=settings.scim_rate_burst,
        token_rate=settings.token_rate_limit,
        token_burst=settings.token_rate_burst,
        failure_rate=settings.failed_auth_rate_limit,
        failure_burst=settings.failed_auth_burst,
    )


def bucket_store(settings: Settings) -> BucketStore | None:
    """``auto``: shared in PostgreSQL when the database is PostgreSQL, else in memory."""
    choice = settings.rate_limit_store
    if choice == "off":
        return None
    postgres = urlsplit(settings.database_url).scheme in {"postgres", "postgresql"}
    if choice == "memory" or (choice == "auto" and not postgres):
        return MemoryBuckets()
    if not postgres:
        msg = "SCIMLAB_RATE_LIMIT_STORE=database needs a PostgreSQL SCIMLAB_DATABASE_URL"
        raise ValueError(msg)
    timeout = min(2.0, settings.database_timeout_seconds)
    return FailoverBuckets(LeasedBuckets(PostgresBuckets(settings.database_url, timeout=timeout)))


class OpsPlugin(InitPlugin):
    __slots__ = ("_lane", "_settings", "_store")

    def __init__(self, settings: Settings, *, lane: list[LaneRoute] | None = None) -> None:
        self._settings = settings
        self._store = bucket_store(settings)
        self._lane = Lane(lane or [])

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        middleware = [metrics_config().middleware]
        if self._store is not None:
            limits = rate_limits(self._settings)
            middleware.append(
                DefineMiddleware(RateLimitMiddleware, store=self._store, limits=limits)
            )
        app_config.middleware = [*middleware, *app_config.middleware]
        app_config.route_handlers = [*app_config.route_handlers, MetricsController]
        for kind, handler in FAULT_HANDLERS.items():
            app_config.exception_handlers.setdefault(kind, handler)
        app_config.lifespan = [*app_config.lifespan, self._lifespan]
        app_config.logging_config = logging_config(self._settings.log_level)
        install_request_ids()
        return app_config

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncIterator[None]:
        self._lane.bind(app)
        current = app.asgi_handler
        if isinstance(current, TrafficRecorder):  # a second start-up: a new recording window
            current.close()
            current = current.app
        if isinstance(current, EdgeMiddleware):
            edge = current
        else:
            edge = EdgeMiddleware(
                current,
                deadline_seconds=self._settings.request_timeout_seconds,
                hsts=self._settings.public_url.startswith("https://"),
                lane=self._lane,
            )
        app.asgi_handler = cast("ASGIApp", edge)
        # The only hook of traffic recording: absent unless SCIMLAB_RECORD_PRACTICE is set.
        recorder = recorder_for(edge, self._settings)
        if recorder is not None:
            app.asgi_handler = cast("ASGIApp", recorder)
        try:
            yield
        finally:
            if recorder is not None:
                recorder.close()
            edge.access.close()
            if self._store is not None:
                await self._store.close()
