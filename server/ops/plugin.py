"""``OpsPlugin``: logs, request ids, security headers, deadlines, metrics, rate limits and
database-fault handling, added to an app in one line (``plugins=[OpsPlugin(settings)]``);
its bucket store also limits console sign-in (``sign_in_limiter``, for the sign-in service).

It sets Litestar's logging to JSON lines and adds the metrics and rate-limit middleware to
every route. ``front`` builds the application that is served (``server.ops.front``):
``EdgeMiddleware`` around the whole app (Litestar's own middleware only runs for matched
routes; the edge must also see unmatched ones) with the app's fast routes
(``server.ops.dispatch``), and ``TrafficRecorder`` (``server.ops.recording``) around the
edge from each start-up, which records a practice while the settings or a console window ask
for it. The rate-limit store closes at shutdown.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from litestar.middleware.base import DefineMiddleware
from litestar.plugins import InitPlugin

from server.ops.buckets import BucketStore, FailoverBuckets, MemoryBuckets
from server.ops.dispatch import RouteDispatch
from server.ops.edge import EdgeMiddleware
from server.ops.faults import FAULT_HANDLERS
from server.ops.front import Front
from server.ops.leases import LeasedBuckets
from server.ops.logs import install_request_ids, logging_config
from server.ops.metrics import metrics_config, metrics_controller
from server.ops.proxies import TrustedProxies
from server.ops.ratelimit import RateLimitMiddleware, RateLimits, SignInBuckets, SignInLimits
from server.persistence.rate_buckets import PostgresBuckets

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar
    from litestar.config.app import AppConfig

    from server.ops.dispatch import Failure, FastRoute
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
    __slots__ = ("_front", "_settings", "_stores")

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._stores = bucket_stores(settings)
        self._front: Front | None = None

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

    def front(
        self,
        app: Litestar,
        routes: list[FastRoute],
        *,
        failure: Failure,
        dependencies: frozenset[str],
    ) -> Front:
        """The application to serve: the edge around ``app``, answering ``routes`` itself.
        Raises ``RouteRefused`` when a route carries a layer the dispatch would not run."""
        settings = self._settings
        edge = EdgeMiddleware(
            app,
            deadline_seconds=settings.request_timeout_seconds,
            hsts=settings.public_url.startswith("https://"),
            dispatch=RouteDispatch(app, routes, failure=failure, dependencies=dependencies),
            proxies=TrustedProxies(proxies) if (proxies := settings.trusted_proxies) else None,
        )
        self._front = Front(app, edge, settings)
        return self._front

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncIterator[None]:
        front = self._front
        if front is not None:
            front.edge.observe = getattr(app.state, "exchange_observer", None)  # server.activity
            front.start()
        try:
            yield
        finally:
            if front is not None:
                front.stop()
            if self._stores is not None:
                await self._stores.close()
