"""The baselines the server is measured against, as ASGI factories granian can serve:
a bare Litestar JSON endpoint (the framework's ceiling) and scim2-server (a peer)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, delete, get, patch, post, put

__all__ = ["bare_app", "scim2_server_app"]

_USER = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "userName": "bjensen@example.com",
    "active": True,
}


def bare_app() -> Litestar:
    """The same routes as SCIM, answering fixed JSON: no auth, no parsing, no storage."""

    @get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @get("/Users/{user_id:str}")
    async def read(user_id: str) -> dict[str, Any]:
        return _USER

    @get("/Users")
    async def search(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return {"totalResults": 1, "Resources": [_USER]}

    @post("/Users", status_code=201)
    async def create(request: Request[Any, Any, Any]) -> dict[str, Any]:
        await request.body()
        return _USER

    @patch("/Users/{user_id:str}")
    async def modify(request: Request[Any, Any, Any], user_id: str) -> dict[str, Any]:
        await request.body()
        return _USER

    @put("/Users/{user_id:str}")
    async def replace(request: Request[Any, Any, Any], user_id: str) -> dict[str, Any]:
        await request.body()
        return _USER

    @delete("/Users/{user_id:str}")
    async def remove(user_id: str) -> None:
        return None

    return Litestar([health, read, search, create, modify, replace, remove], debug=False)


def scim2_server_app() -> Any:
    """scim2-server's ASGI application over its in-memory storage, with its default schemas
    and no authentication (as its test server runs without --bearer-token)."""
    from scim2_models import ScimProvider  # noqa: PLC0415 - only the benchmark needs them
    from scim2_server.applications.asgi import ASGIApplication  # noqa: PLC0415
    from scim2_server.memory import AsyncInMemoryStorage  # noqa: PLC0415
    from scim2_server.utils import (  # noqa: PLC0415
        load_default_resource_types,
        load_default_schemas,
        load_default_service_provider_config,
    )

    scim_service = ScimProvider.from_discovery(
        load_default_schemas().values(),
        load_default_resource_types().values(),
        config=load_default_service_provider_config(),
    )
    return ASGIApplication(AsyncInMemoryStorage(), scim_service)
