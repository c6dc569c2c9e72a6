"""``OpsPlugin``: logs, request ids, security headers, deadlines, metrics, rate limits and
database-fault handling, added to an app in one line (``plugins=[OpsPlugin(settings)]``);
its bucket store also limits console sign-in (``sign_in_limiter``, for the sign-in service).

It sets Litestar's logging to JSON lines; at start-up (the app's lifespan) it puts
``EdgeMiddleware`` around the whole app (Litestar's own middleware only runs for matched
routes; the edge must also see unmatched ones), with the app's lane routes
(``server.ops.lane``) bound to it, and, only when a practice's traffic is to be recorded,
``TrafficRecorder`` (``server.ops.recording``) around the edge. The rate-limit store
closes at shutdown.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
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
from server.ops.metrics import metrics_config, metrics_controller
from server.ops.proxies import TrustedProxies
from server.ops.ratelimit import RateLimitMiddleware, RateLimits, SignInBuckets, SignInLimits
from server.ops.recording import TrafficRecorder, recorder_for
from server.persistence.rate_buckets import PostgresBuckets

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar
    from litestar.config.app import AppConfig
    from litestar.types import ASGIApp

    from server.settings import Settings

__all__ = ["BucketStores", "OpsPlugin", "bucket_stores", "rate_limits", "sign_in_limits"]


def rate_limits(settings: Settings) -> RateLimits:
    return RateLimits(
        scim_rate=settings.scim_rate_limit,
        scim_burst=settings.scim_rate_burst,
        token_rate=settings.token_rate_limit,
        token_burst=settings.token_rate_burst,
        failure_rate=settings.failed_auth_rate_limit,
        failure_burst=settings.failed_auth_burst,
    )


def sign_in_limits(settings: Settings) -> SignInLimits:
    return SignInLimits(
        address_rate=settings.sign_in_rate_limit,
        address_burst=settings.sign_in_rate_burst,
        account_rate=settings.sign_in_account_rate_limit,
        account_burst=settings.sign_in_account_rate_burst,
    )


@dataclass(frozen=True, slots=True)
class BucketStores:
    """Where the request limits draw, and where sign-in attempts draw: the same buckets, but
    an attempt always draws from the shared store itself. Attempts are few, and a lease taken
    for one (``server.ops.leases``) would hold up to half of its address's bucket in one
    process for a second."""

    requests: BucketStore
    sign_in: BucketStore

    async def close(self) -> None:
        await self.requests.close()
        await self.sign_in.close()


def bucket_stores(settings: Settings) -> BucketStores | None:
    """``auto``: shared in PostgreSQL when the database is PostgreSQL, else in memory."""
    choice = settings.rate_limit_store
    if choice == "off":
        return None
    postgres = urlsplit(settings.database_url).scheme in {"postgres", "postgresql"}
    if choice == "memory" or (choice == "auto" and not postgres):
        memory = MemoryBuckets()
        return BucketStores(memory, memory)
    if not postgres:
        msg = "SCIMLAB_RATE_LIMIT_STORE=database needs a PostgreSQL SCIMLAB_DATABASE_URL"
        raise ValueError(msg)
    timeout = min(2.0, settings.database_timeout_seconds)
    shared = PostgresBuckets(settings.database_url, timeout=timeout)
    return BucketStores(FailoverBuckets(LeasedBuckets(shared)), FailoverBuckets(shared))


class OpsPlugin(InitPlugin):
    __slots__ = ("_lane", "_settings", "_stores")

    def __init__(self, settings: Settings, *, lane: list[LaneRoute] | None = None) -> None:
        self._settings = settings
        self._stores = bucket_stores(settings)
        self._lane = Lane(lane or [])

    @property
    def sign_in_limiter(self) -> SignInBuckets | None:
        """Console sign-in limits on this plugin's buckets (None when limits are off)."""
        if self._stores is None:
            return None
        return SignInBuckets(self._stores.sign_in, sign_in_limits(self._settings))

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        middleware = [metrics_config().middleware]
        if self._stores is not None:
            limits = rate_limits(self._settings)
            middleware.append(
                DefineMiddleware(RateLimitMiddleware, store=self._stores.requests, limits=limits)
            )
        app_config.middleware = [*middleware, *app_config.middleware]
        metrics = metrics_controller(self._settings.metrics_token)
        app_config.route_handlers = [*app_config.route_handlers, metrics]
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
                proxies=TrustedProxies(proxies)
                if (proxies := self._settings.trusted_proxies)
                else None,
            )
        app.asgi_handler = cast("ASGIApp", edge)
        edge.observe = getattr(app.state, "exchange_observer", None)  # server.activity's hook
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
            if self._stores is not None:
                await self._stores.close()
