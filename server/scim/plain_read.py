"""The plainest read by id, ``GET /Users/{id}`` (RFC 7644 §3.4.1), answered without Litestar's
handler machinery.

Resolving the dependencies, checking the signature and building a ``Response`` cost a read
by id about as much CPU as checking the token and reading the user with its groups (in
process, 348 µs per read with them, 224 µs without). This middleware sits on the read route
only, inside every application layer (edge, metrics, rate limits), and answers a read with
a bearer token and no query, ``If-None-Match`` or ``Prefer`` itself, with the handler's
services and body builder; a failure is written by the route's exception handlers, as the
handler's are. Any other read goes on to the handler. ``tests/integration/test_plain_read.py``
checks that both answer alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast
from uuid import UUID

from litestar._asgi.utils import wrap_in_exception_handler
from litestar.serialization import encode_json

from server.domain.provisioning import parse_user_id
from server.mapping.user_wire import user_payload
from server.scim.resources import location
from server.scim.responses import SCIM_MEDIA_TYPE

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

    from server.services import Services

__all__ = ["PlainReadMiddleware", "plain_bearer_token"]

_MEDIA_TYPE = SCIM_MEDIA_TYPE.encode()
# Headers that change what a read answers: the handler deals with them.
_HANDLED_BY_HANDLER = frozenset({b"if-none-match", b"prefer"})


def plain_bearer_token(scope: Scope) -> str | None:
    """The bearer token of a read the middleware may answer; None sends it to the handler."""
    if scope["query_string"]:
        return None
    token: str | None = None
    for name, value in scope["headers"]:
        if name in _HANDLED_BY_HANDLER:
            return None
        if name == b"authorization":
            scheme, _, credential = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not credential.strip():
                return None
            token = credential.strip()
    return token


class PlainReadMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # What Litestar puts between every route and its middleware: a failure becomes the
        # route's error response here, so the rate limits and metrics around see its status.
        self._answer = wrap_in_exception_handler(self._read)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if plain_bearer_token(scope) is None:
            await self.app(scope, receive, send)
        else:
            await self._answer(scope, receive, send)

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> None:
        services: Services = scope["litestar_app"].state.services
        params = scope["path_params"]
        token = plain_bearer_token(scope) or ""
        url_practice = cast(UUID, params["practice_id"])  # the route's ``uuid`` parameter
        practice = await services.tokens.practice_for_bearer(token, url_practice)
        user_id = parse_user_id(params["user_id"])
        staff, groups = await services.provisioning.get_with_groups(practice, user_id)
        memberships = [
            (str(gid), name, location(services, practice, "Groups", gid)) for gid, name in groups
        ]
        body = encode_json(
            user_payload(
                staff, location=location(services, practice, "Users", staff.id), groups=memberships
            )
        )
        headers = [
            (b"etag", staff.etag.encode("latin-1")),
            (b"content-type", _MEDIA_TYPE),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
