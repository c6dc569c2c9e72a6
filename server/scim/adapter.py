"""The Litestar side of a SCIM operation (``server.scim.operations``): a handler passes its
request to the operation and returns the operation's answer, nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Response

from server.scim.operations.exchange import SCIM_MEDIA_TYPE, request_from_scope

if TYPE_CHECKING:
    from litestar import Request

    from server.scim.operations.conditions import Operation
    from server.scim.operations.exchange import ScimAnswer
    from server.services import Services

__all__ = ["BODY_METHODS", "respond", "to_response"]

#: The methods whose body an operation reads.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def to_response(answer: ScimAnswer) -> Response[Any]:
    return Response(
        content=answer.body,
        status_code=answer.status,
        media_type=SCIM_MEDIA_TYPE,
        headers=dict(answer.headers),
    )


async def respond(
    operation: Operation, request: Request[Any, Any, Any], services: Services
) -> Response[Any]:
    """The answer of ``operation`` to ``request``, as a Litestar response."""
    body = await request.body() if request.method in BODY_METHODS else b""
    return to_response(await operation(services, request_from_scope(request.scope, body)))
