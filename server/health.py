"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency

from server.ops.serving import draining
from server.services import Services

__all__ = ["healthz", "readyz"]


@get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    """The process answers; the database is not touched."""
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def readyz(services: NamedDependency[Services]) -> Response[Any]:
    """The database answers within the configured timeout, and the host is not shutting down
    (503 from SIGTERM on, while it still serves: a load balancer stops sending first)."""
    if draining():
        return Response({"status": "draining"}, status_code=503)
    try:
        await asyncio.wait_for(
            services.store.ping(), timeout=services.settings.database_timeout_seconds
        )
    except Exception:
        return Response({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return Response({"status": "ok", "database": "ok"})
