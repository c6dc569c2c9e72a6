"""The one place the application is assembled (``create_app``)."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from litestar import Litestar, Request, Response, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from litestar.openapi.config import OpenAPIConfig

from server.activity.plugin import ActivityPlugin
from server.auth.controller import TokenController
from server.console import console_router
from server.console.saml_signin import SamlController
from server.health import healthz, readyz
from server.ops.context import current_client_address, current_request_id
from server.ops.front import Front
from server.ops.heap import settle_heap
from server.ops.plugin import OpsPlugin
from server.persistence.store import open_store
from server.practices.controller import ScimConfigController
from server.scim.discovery import DiscoveryController
from server.scim.errors import SCIM_EXCEPTION_HANDLERS
from server.scim.fast_routes import FAST_DEPENDENCIES, fast_routes, send_failure
from server.scim.groups import GroupsController
from server.scim.responses import scim_error
from server.scim.root import RootSearchController
from server.scim.users import UsersController
from server.services import Services
from server.settings import Settings
from server.sso.api import SsoConfigController
from server.staff.controller import StaffController

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ["create_app", "serve_app"]

logger = logging.getLogger("scimlab")


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    request_id = current_request_id()
    logger.error("unhandled error on %s (request %s)", request.url.path, request_id, exc_info=exc)
    return Response(
        {"status_code": 500, "detail": f"internal error; request id {request_id}"},
        status_code=500,
    )


def _route_missing(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """No route matched: SCIM clients get an RFC 7644 error body, others Litestar's JSON."""
    detail = exc.detail if isinstance(exc.detail, str) else "not found"
    if request.url.path.startswith("/scim/"):
        return scim_error(exc.status_code, detail, headers=dict(exc.headers or {}))
    return Response(
        {"status_code": exc.status_code, "detail": detail},
        status_code=exc.status_code,
        headers=dict(exc.headers or {}),
    )


def create_app(
    settings: Settings | None = None, *, migrate: bool = True, settle: bool = False
) -> Front:
    """The application to serve: the Litestar app behind its edge (``Front.litestar`` is the
    Litestar app). ``settle`` (a served worker, not a test) freezes the startup heap once
    ready (:mod:`server.ops.heap`). Raises ``SettingsError`` for settings that must not
    serve, and ``RouteRefused`` when a fast route carries a layer the edge would not run."""
    settings = settings or Settings.from_env()
    settings.refuse_unsafe()
    ops = OpsPlugin(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        store = await open_store(
            settings.database_url,
            migrate=migrate,
            database_timeout=settings.database_timeout_seconds,
            secret_keys=settings.secret_keys,
            client_address=current_client_address,
        )
        if not settings.secret_keys:
            logger.warning("SCIMLAB_SECRET_KEY is not set: TOTP secrets are kept unencrypted")
        # app.state: where the dependency below and the fast routes find them.
        app.state.services = Services.build(store, settings, sign_in_limiter=ops.sign_in_limiter)
        loop = type(asyncio.get_running_loop())
        ready: dict[str, Any] = {"event_loop": f"{loop.__module__}.{loop.__qualname__}"}
        if settle:
            heap = settle_heap()
            ready |= {"frozen_objects": heap.frozen_objects, "gc_thresholds": heap.thresholds}
        logger.info("ready", extra=ready)
        try:
            yield
        finally:
            await store.close()

    def provide_services(state: State) -> Services:
        services: Services = state.services
        return services

    scim = Router(
        path="/",
        route_handlers=[
            UsersController,
            GroupsController,
            DiscoveryController,
            RootSearchController,
        ],
        exception_handlers=SCIM_EXCEPTION_HANDLERS,
        include_in_schema=False,
    )
    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            TokenController,
            ScimConfigController,
            StaffController,
            scim,
            SsoConfigController,
            SamlController,
            console_router(settings),
        ],
        dependencies={"services": Provide(provide_services, sync_to_thread=False)},
        lifespan=[lifespan],
        exception_handlers={
            NotFoundException: _route_missing,
            MethodNotAllowedException: _route_missing,
            500: _internal_error,
        },
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="scimlab management API", version="0.1.0", path="/api/docs"
        ),
        debug=False,
        # ActivityPlugin first: its start-up hands the edge (OpsPlugin's) its observer.
        plugins=[ActivityPlugin(settings), ops],
    )
    return ops.front(app, fast_routes(), failure=send_failure, dependencies=FAST_DEPENDENCIES)


def serve_app() -> Front:
    """granian's factory: settings from the environment; ``scimlab serve`` migrated already."""
    return create_app(Settings.from_env(), migrate=False, settle=True)
