"""The one hook of the activity log on the request path: the edge's ``observe`` (it calls the
observer with the fast route's or the app's handler, inside its request id, deadline and headers).

For a request under ``/scim/v2/`` it notes, without parsing anything: the time, method and
path; the User-Agent; which credential was offered (a bearer token only as its SHA-256, the
hash the token table is keyed by; Basic only as its client id, never the password); the
body of a POST, PUT or PATCH; and the response's status, ``X-Request-ID``, ``Location`` and
(for writes, reads of one resource and errors) body. After the response it hands that
:class:`Seen` to the recorder's queue; the route template is read from the scope the router
(or the edge's fast routes) filled in. Everything else (JSON, names, the credential's label, the
database) happens in the recorder's background batch. Other paths pass straight through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
#: A response body longer than this is not kept (list pages; a huge group): the id then
#: comes from the path or ``Location`` and the name from the database.
MAX_KEPT_BODY = 256 * 1024


@dataclass(slots=True)
class Seen:
    """One exchange as the observer saw it; bodies are dropped once the batch has read them."""

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
    response_body: bytes | None


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
        if not scope["path"].startswith(_PREFIX):
            await app(scope, receive, send)
            return
        method: str = scope["method"]
        at = utcnow()
        received: list[bytes] = []
        sent: list[bytes] = []
        answer: dict[str, Any] = {"status": 0, "location": None}
        keep_body = method in _WRITES or scope["path"].count("/") >= 5

        async def keep_receive() -> Message:
            message: Message = await receive()
            if message["type"] == "http.request":
                received.append(message.get("body", b""))
            return message

        async def keep_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = status = message["status"]
                for name, value in message.get("headers") or ():
                    if name == b"location":
                        answer["location"] = value.decode("latin-1")
                answer["keep"] = keep_body or status >= 400
                answer["size"] = 0
            elif message["type"] == "http.response.body" and answer.get("keep"):
                body = message.get("body", b"")
                answer["size"] += len(body)
                if answer["size"] <= MAX_KEPT_BODY:
                    sent.append(body)
                else:
                    answer["keep"] = False
                    sent.clear()
            await send(message)

        try:
            await app(scope, keep_receive if method in _WRITES else receive, keep_send)
        finally:
            if answer["status"]:
                self._add(self._seen(scope, at, answer, received, sent))

    @staticmethod
    def _seen(
        scope: dict[str, Any],
        at: datetime,
        answer: dict[str, Any],
        received: list[bytes],
        sent: list[bytes],
    ) -> Seen:
        user_agent, bearer, basic = "", None, None
        for name, value in scope["headers"]:
            if name == b"user-agent":
                user_agent = value.decode("latin-1")
            elif name == b"authorization":
                bearer, basic = _credential(value)
        return Seen(
            at=at,
            method=scope["method"],
            path=scope["path"],
            route=scope.get("path_template"),
            status=answer["status"],
            request_id=str((scope.get("state") or {}).get("request_id") or ""),
            user_agent=user_agent,
            bearer_hash=bearer,
            basic_client=basic,
            location=answer["location"],
            request_body=b"".join(received) if received else None,
            response_body=b"".join(sent) if answer.get("keep") and sent else None,
        )
