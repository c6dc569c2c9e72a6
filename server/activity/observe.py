"""The one hook of the activity log on the request path: the edge's ``observe`` (it calls the
observer with the fast route's or the app's handler, inside its request id, deadline and headers).

For a request under ``/scim/v2/`` it notes raw facts only, as one :class:`Seen` tuple: the
time, method, path and route template (read from the scope the router or the edge's fast
routes filled in); the User-Agent; which credential was offered (a bearer token only as its
SHA-256, the hash the token table is keyed by; Basic only as its client id, never the
password); the status, ``X-Request-ID`` and, for a create, ``Location``; the request body of
a POST, PUT or PATCH (the chunks the app read, joined once) and the response body of an error
(small: its ``scimType`` and ``detail``). A successful response's body is never held. Nothing
is parsed, named or formatted here: the recorder's background batch does that, once per
batch. Other paths pass straight through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from server.domain.clock import utcnow
from server.security import hash_secret, parse_basic_credentials

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime

    Message = dict[str, Any]
    ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

__all__ = ["ActivityObserver", "Seen"]

_PREFIX = "/scim/v2/"
_WRITES = frozenset({"POST", "PUT", "PATCH"})
#: An error body longer than this is not kept (its scimType and detail are then unknown).
MAX_KEPT_ERROR = 64 * 1024


class Seen(NamedTuple):
    """One exchange as the observer saw it: raw facts, described by the recorder's batch."""

    at: datetime
    method: str
    path: str
    route: str | None
    status: int
    request_id: str
    user_agent: str
    bearer_hash: str | None
    basic_client: str | None
    location: str | None
    request_body: bytes | None
    error_body: bytes | None


def _credential(header: bytes) -> tuple[str | None, str | None]:
    text = header.decode("latin-1")
    scheme, _, value = text.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return hash_secret(value.strip()), None
    try:
        basic = parse_basic_credentials(text)
    except ValueError:
        return None, None
    return None, (basic[0] if basic is not None else None)


class ActivityObserver:
    def __init__(self, add: Callable[[Seen], None]) -> None:
        self._add = add

    async def __call__(self, app: ASGIApp, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path: str = scope["path"]
        if not path.startswith(_PREFIX):
            await app(scope, receive, send)
            return
        method: str = scope["method"]
        at = utcnow()
        # status, Location, error body chunks (a list once the status is an error)
        answer: list[Any] = [0, None, None]

        async def keep_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = answer[0] = message["status"]
                if status >= 400:
                    answer[2] = []
                elif status == 201:
                    for name, value in message.get("headers") or ():
                        if name == b"location":
                            answer[1] = value.decode("latin-1")
            elif answer[2] is not None and message["type"] == "http.response.body":
                answer[2].append(message.get("body", b""))
            await send(message)

        if method in _WRITES:
            received: list[bytes] = []

            async def keep_receive() -> Message:
                message: Message = await receive()
                if message["type"] == "http.request":
                    received.append(message.get("body", b""))
                return message

            try:
                await app(scope, keep_receive, keep_send)
            finally:
                if answer[0]:
                    self._add(self._seen(scope, at, answer, b"".join(received)))
            return
        try:
            await app(scope, receive, keep_send)
        finally:
            if answer[0]:
                self._add(self._seen(scope, at, answer, None))

    @staticmethod
    def _seen(
        scope: dict[str, Any], at: datetime, answer: list[Any], request_body: bytes | None
    ) -> Seen:
        user_agent, bearer, basic = "", None, None
        for name, value in scope["headers"]:
            if name == b"user-agent":
                user_agent = value.decode("latin-1")
            elif name == b"authorization":
                bearer, basic = _credential(value)
        error = answer[2]
        error_body = b"".join(error) if error else None
        if error_body is not None and len(error_body) > MAX_KEPT_ERROR:
            error_body = None
        state = scope.get("state")
        return Seen(
            at,
            scope["method"],
            scope["path"],
            scope.get("path_template"),
            answer[0],
            str(state.get("request_id") or "") if state else "",
            user_agent,
            bearer,
            basic,
            answer[1],
            request_body,
            error_body,
        )
