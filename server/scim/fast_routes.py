"""The SCIM routes the edge answers itself (``server.ops.dispatch``): every operation on
``/Users`` and ``/Groups``, each by the same function its Litestar handler calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request

from server.ops.dispatch import FastRoute
from server.scim.adapter import BODY_METHODS
from server.scim.errors import exception_answer
from server.scim.groups import GroupsController
from server.scim.operations import groups, users
from server.scim.operations.exchange import SCIM_MEDIA_TYPE, request_from_scope
from server.scim.users import UsersController

if TYPE_CHECKING:
    from server.scim.operations.conditions import Operation
    from server.scim.operations.exchange import ScimAnswer

__all__ = ["FAST_DEPENDENCIES", "fast_routes", "send_failure"]

#: The dependencies the Litestar handlers of these routes take, which the endpoints find
#: themselves (the services, on the app's state).
FAST_DEPENDENCIES = frozenset({"services"})
_MEDIA_TYPE = SCIM_MEDIA_TYPE.encode()
_NO_CONTENT = frozenset({204, 304})


async def _send(answer: ScimAnswer, send: Any) -> None:
    headers = [(name.lower().encode("latin-1"), v.encode("latin-1")) for name, v in answer.headers]
    if answer.body:
        headers.append((b"content-type", _MEDIA_TYPE))
    if answer.status not in _NO_CONTENT:  # as Litestar: no length where no body may be
        headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body, "more_body": False})


def _endpoint(operation: Operation) -> Any:
    async def endpoint(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        if scope["method"] in BODY_METHODS:
            # Litestar reads it, bounded by the route's request_max_body_size.
            try:
                body = await Request[Any, Any, Any](scope, receive).body()
            except Exception as error:  # answered here, inside the route's middleware
                await send_failure(error, scope, send)
                return
        services = scope["litestar_app"].state.services
        await _send(await operation(services, request_from_scope(scope, body)), send)

    return endpoint


async def send_failure(error: Exception, scope: Any, send: Any) -> None:
    """The error answer of a failure around an operation (a middleware's, a body refused)."""
    await _send(exception_answer(error, scope["method"], scope["path"]), send)


def _routes(controller: Any, resource: str, module: Any) -> list[FastRoute]:
    base = f"{controller.path}"
    item = f"{base}/{{{resource}_id:str}}"
    table = [
        ("GET", base, module.search),
        ("POST", base, module.create),
        ("POST", f"{base}/.search", module.search_by_post),
        ("GET", item, module.read),
        ("PUT", item, module.replace),
        ("PATCH", item, module.patch),
        ("DELETE", item, module.delete),
    ]
    return [FastRoute(method, path, _endpoint(op)) for method, path, op in table]


def fast_routes() -> list[FastRoute]:
    return [*_routes(UsersController, "user", users), *_routes(GroupsController, "group", groups)]
