"""Deliberately broken targets: small ASGI wrappers around our app, each with one known fault.

A conformance suite that always passes proves nothing; these wrappers give the suites
something to catch. Each one buffers the request and the response, rewrites one of them, and
otherwise passes everything through unchanged.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = [
    "accepts_old_secret",
    "adds_title",
    "ignores_cursor",
    "ignores_string_false",
    "leaks_peer_users",
    "previous_cursor_stays",
]

Exchange = tuple[int, list[tuple[bytes, bytes]], bytes]


async def call(app: ASGIApp, scope: Scope, body: bytes) -> Exchange:
    """Run one HTTP request through ``app`` and collect status, headers and body."""
    sent = False
    status, headers, chunks = 500, [], []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, headers, b"".join(chunks)


def wrap(
    app: ASGIApp,
    request: Callable[[Scope, bytes], tuple[Scope, bytes]] | None = None,
    response: Callable[[Scope, Exchange], Awaitable[Exchange]] | None = None,
) -> ASGIApp:
    """An app that rewrites requests and/or responses of ``app``."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        scope = pristine(scope)
        if request is not None:
            scope, body = request(scope, body)
        result = await call(app, pristine(scope), body)
        if response is not None:
            result = await response(scope, result)
        status, headers, out = result
        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(out)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})

    return wrapper


_SCOPE_KEYS = (
    *("type", "asgi", "http_version", "method", "scheme", "path", "raw_path", "root_path"),
    *("query_string", "headers", "client", "server", "extensions"),
)


def pristine(scope: Scope) -> Scope:
    """The request part of a scope (the app under test adds its own keys to what it gets)."""
    return {k: scope[k] for k in _SCOPE_KEYS if k in scope} | {"state": {}}


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def adds_title(app: ASGIApp) -> ASGIApp:
    """Fault: user responses carry an unaccepted attribute, ``title``."""

    async def response(scope: Scope, result: Exchange) -> Exchange:
        status, headers, body = result
        payload = _json(body)
        if "/Users" not in scope["path"] or not isinstance(payload, dict):
            return result
        for user in [payload, *payload.get("Resources", [])]:
            if isinstance(user, dict) and "userName" in user:
                user["title"] = "Engineer"
        return status, headers, json.dumps(payload).encode()

    return wrap(app, response=response)


def accepts_old_secret(app: ASGIApp, current_secret: str) -> ASGIApp:
    """Fault: after a regeneration, the token endpoint still takes the old secret (the
    wrapper swaps it for the new one it saw in the regenerate-secret response)."""
    state = {"current": current_secret}
    replaced: dict[str, str] = {}

    def request(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
        if scope["path"] != "/oauth/token":
            return scope, body
        form = [
            (k, replaced.get(v, v) if k == "client_secret" else v)
            for k, v in parse_qsl(body.decode())
        ]
        headers = []
        for key, value in scope["headers"]:
            if key.lower() == b"authorization" and value.lower().startswith(b"basic "):
                user, _, secret = base64.b64decode(value[6:]).decode().partition(":")
                secret = quote(replaced.get(unquote(secret), unquote(secret)), safe="")
                headers.append((key, b"Basic " + base64.b64encode(f"{user}:{secret}".encode())))
            else:
                headers.append((key, value))
        scope["headers"] = headers
        return scope, urlencode(form).encode()

    async def response(scope: Scope, result: Exchange) -> Exchange:
        payload = _json(result[2])
        if scope["path"].endswith("/regenerate-secret") and isinstance(payload, dict):
            replaced[state["current"]] = payload["client_secret"]
            state["current"] = payload["client_secret"]
        return result

    return wrap(app, request, response)


def ignores_string_false(app: ASGIApp) -> ASGIApp:
    """Fault: PATCH operations setting ``active`` to the string ``"False"`` are dropped."""
    harmless = {"op": "add", "path": "nickName", "value": "ignored"}

    def request(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
        payload = _json(body)
        scim_patch = scope["method"] == "PATCH" and scope["path"].startswith("/scim/")
        if not scim_patch or not isinstance(payload, dict):
            return scope, body
        kept = []
        for op in payload.get("Operations", []):
            value = op.get("value")
            if value == "False" or (isinstance(value, dict) and value.get("active") == "False"):
                op = harmless  # noqa: PLW2901 - the fault: the deactivation is dropped
            kept.append(op)
        return scope, json.dumps({**payload, "Operations": kept}).encode()

    return wrap(app, request)


def leaks_peer_users(app: ASGIApp, own_path: str, peer_path: str, peer_token: str) -> ASGIApp:
    """Fault: filtered user lists forget the practice and also return the peer's matches."""

    async def response(scope: Scope, result: Exchange) -> Exchange:
        status, headers, body = result
        query = scope.get("query_string", b"").decode()
        if scope["path"].rstrip("/") != f"{own_path}/Users" or "filter=" not in query:
            return result
        peer_scope = pristine(scope)
        peer_scope["path"] = f"{peer_path}/Users"
        peer_scope["raw_path"] = peer_scope["path"].encode()
        peer_scope["headers"] = [
            (k, v) for k, v in scope["headers"] if k.lower() != b"authorization"
        ] + [(b"authorization", f"Bearer {peer_token}".encode())]
        _, _, extra = await call(app, peer_scope, b"")
        mine, theirs = _json(body), _json(extra)
        if not isinstance(mine, dict) or not isinstance(theirs, dict):
            return result
        leaked = theirs.get("Resources", [])
        mine["Resources"] = [*mine.get("Resources", []), *leaked]
        mine["totalResults"] = mine.get("totalResults", 0) + len(leaked)
        mine["itemsPerPage"] = len(mine["Resources"])
        return status, headers, json.dumps(mine).encode()

    return wrap(app, response=response)


def ignores_cursor(app: ASGIApp) -> ASGIApp:
    """Fault: announces cursor paging (RFC 9865) but drops ``cursor`` from list requests, so
    every list is index-paged and no page carries ``nextCursor``."""

    def request(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
        if not scope["path"].startswith("/scim/"):
            return scope, body
        query = parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True)
        scope["query_string"] = urlencode([(k, v) for k, v in query if k != "cursor"]).encode()
        payload = _json(body)
        if scope["path"].endswith("/.search") and isinstance(payload, dict):
            payload.pop("cursor", None)
            body = json.dumps(payload).encode()
        return scope, body

    return wrap(app, request)


def previous_cursor_stays(app: ASGIApp) -> ASGIApp:
    """Fault: a cursor page's ``previousCursor`` is the cursor it was asked with, so it
    answers the same page again instead of the page before."""

    async def response(scope: Scope, result: Exchange) -> Exchange:
        status, headers, body = result
        query = dict(parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True))
        page = _json(body)
        if not isinstance(page, dict) or "previousCursor" not in page or not query.get("cursor"):
            return result
        page["previousCursor"] = query["cursor"]
        return status, headers, json.dumps(page).encode()

    return wrap(app, response=response)
