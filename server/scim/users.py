"""``/Users`` (RFC 7644 §3.3-§3.6).

Each handler is the Litestar way in to one operation of ``server.scim.operations.users``, which
checks the credential, reads the request and writes the whole answer; the edge's fast routes
(``server.scim.fast_routes``) call the same operations.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency

from server.scim.adapter import respond
from server.scim.operations import users as operations
from server.services import Services

__all__ = ["UsersController"]


class UsersController(Controller):
    path = "/scim/v2/{practice_id:uuid}/Users"

    @post("/", status_code=201)
    async def create(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Any]:
        return await respond(operations.create, request, services)

    @get("/")
    async def search(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Any]:
        return await respond(operations.search, request, services)

    @post("/.search", status_code=200)
    async def search_by_post(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Any]:
        return await respond(operations.search_by_post, request, services)

    @get("/{user_id:str}")
    async def read(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Any]:
        return await respond(operations.read, request, services)

    @put("/{user_id:str}")
    async def replace(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Any]:
        return await respond(operations.replace, request, services)

    @patch("/{user_id:str}")
    async def modify(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Any]:
        return await respond(operations.patch, request, services)

    @delete("/{user_id:str}", status_code=200)
    async def remove(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Any]:
        return await respond(operations.delete, request, services)
