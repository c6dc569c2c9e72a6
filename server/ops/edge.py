"""The outermost layer of every HTTP exchange, unmatched routes included.

Per request: the client's address (``server.ops.proxies``: the peer, or whom a trusted
proxy names), put in the scope for everything inside (rate limits, the access log) and in a
context variable for the audit log; an id (``X-Request-ID``, the caller's if it is plain,
else a new one) set for the logs, echoed in a response header and written into every JSON
error body (the SCIM ``detail``, a ``request_id`` member elsewhere); security headers; a
deadline after which a request that has not started its response gets 503 instead of
waiting on; and one access log line (no query string, no header values: those may carry
secrets or personal data).
Inside it, a request of a fast route (``server.ops.dispatch``) skips the router. ``observe``,
when set, is called with the dispatch's or the app's handler in place of calling it, so one
observer sees every exchange the way it was answered (the activity log, ``server.activity``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from server.ops.access_log import ACCESS_LOGGER, AccessLog
from server.ops.context import accept_request_id, client_address_var, request_id_var
from server.ops.deadlines import Deadlines

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from server.ops.deadlines import InFlight
    from server.ops.dispatch import RouteDispatch
    from server.ops.proxies import TrustedProxies

    # Plain dicts: this layer rewrites messages, which Litestar's TypedDicts make awkward.
    Message = dict[str, Any]
    Send = Callable[[Message], Awaitable[None]]
    ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

__all__ = ["DEADLINE_DETAIL", "EdgeMiddleware"]

access_log = logging.getLogger(ACCESS_LOGGER)
_ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
_MAX_REWRITE = 64 * 1024
_COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
)
# Credentials, personal data, console pages: never kept by a cache.
_NO_STORE_PREFIXES = ("/oauth/", "/api/", "/scim/", "/console")
_HSTS = b"max-age=63072000; includeSubDomains"
# Probe answers keep their fixed bodies (the id is in the header).
_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


def _with_request_id(body: bytes, request_id: str) -> bytes | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    if _ERROR_URN in (payload.get("schemas") or []):
        detail = str(payload.get("detail") or "error")
        if request_id not in detail:
            payload["detail"] = f"{detail} (request id {request_id})"
    else:
        payload.setdefault("request_id", request_id)
    return json.dumps(payload).encode()


#: The detail of the 503 answered when a request's deadline passes (the activity log reads it).
DEADLINE_DETAIL = "the request took too long; retry later"


def _timeout_response(path: str, request_id: str) -> tuple[bytes, bytes]:
    detail = f"{DEADLINE_DETAIL} (request id {request_id})"
    if path.startswith("/scim/"):
        body: dict[str, Any] = {"schemas": [_ERROR_URN], "status": "503", "detail": detail}
        return json.dumps(body).encode(), b"application/scim+json"
    if path.startswith("/oauth/"):
        body = {"error": "temporarily_unavailable", "error_description": detail}
    else:
        body = {"status_code": 503, "detail": detail}
    body["request_id"] = request_id
    return json.dumps(body).encode(), b"application/json"


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        deadline_seconds: float,
        hsts: bool,
        dispatch: RouteDispatch | None = None,
        proxies: TrustedProxies | None = None,
    ) -> None:
        self.app = app
        self.dispatch = dispatch
        self.proxies = proxies
        self._deadlines = Deadlines(deadline_seconds)
        self.access = AccessLog()
        self.observe: Callable[[ASGIApp, dict[str, Any], Any, Send], Awaitable[None]] | None = None
        # The headers every response gets, for paths a cache must not keep and for the rest.
        shared = [*_COMMON_HEADERS, *([(b"strict-transport-security", _HSTS)] if hsts else [])]
        self._added = (tuple(shared), (*shared, (b"cache-control", b"no-store")))
        self._added_names = frozenset(name for name, _ in self._added[1]) | {b"x-request-id"}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        address = self._client(scope)
        offered = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        request_id = accept_request_id(offered.decode("latin-1"))
        token = request_id_var.set(request_id)
        address_token = client_address_var.set(address)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 0, "held": None, "chunks": []}
        path: str = scope["path"]
        deadline = self._deadlines.enter()

        async def edge_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._deadlines.stop(deadline)
                state["status"] = message["status"]
                message = {**message, "headers": self._headers(message, path, request_id)}
                if (
                    message["status"] >= 400
                    and path not in _PROBES
                    and _is_json(message["headers"])
                ):
                    state["held"] = message  # rewritten with the body
                    return
                await send(message)
            elif message["type"] == "http.response.body" and state["held"] is not None:
                state["chunks"].append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await self._send_error(send, state, request_id)
            else:
                await send(message)

        taken = self.dispatch.take(scope) if self.dispatch is not None else None
        try:
            timed = partial(self._in_time, app=taken or self.app, deadline=deadline, state=state)
            if self.observe is None:
                await timed(scope, receive, edge_send)
            else:  # the observer sees a deadline's 503 like any other answer
                await self.observe(timed, scope, receive, edge_send)
        finally:
            self._deadlines.stop(deadline)
            self._log(scope, state["status"], started, request_id)
            request_id_var.reset(token)
            client_address_var.reset(address_token)

    async def _in_time(
        self,
        scope: dict[str, Any],
        receive: Any,
        send: Send,
        *,
        app: ASGIApp,
        deadline: InFlight,
        state: dict[str, Any],
    ) -> None:
        """Run ``app``; past the request's deadline, answer 503 through ``send`` instead."""
        try:
            await app(scope, receive, send)
        except asyncio.CancelledError as error:
            if not self._deadlines.cut(deadline, error) or state["status"]:
                raise  # not our deadline, or too late to answer
            path: str = scope["path"]
            body, media = _timeout_response(path, scope["state"]["request_id"])
            headers = [(b"content-type", media), (b"retry-after", b"5")]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})
            access_log.warning("request deadline exceeded", extra={"path": path})

    def _client(self, scope: dict[str, Any]) -> str | None:
        """The client's address; put in the scope when a trusted proxy names another."""
        peer = scope.get("client")
        if peer is None:
            return None
        if self.proxies is None:
            return str(peer[0])
        address = self.proxies.client(peer[0], scope["headers"])
        if address != peer[0]:
            scope["client"] = (address, 0)
        return address

    def _headers(self, message: Message, path: str, request_id: str) -> list[Any]:
        headers: list[Any] = list(message.get("headers") or [])
        added = [(b"x-request-id", request_id.encode())]
        added += self._added[path.startswith(_NO_STORE_PREFIXES)]
        present = {name.lower() for name, _ in headers}
        if present.isdisjoint(self._added_names):
            headers += added
        else:  # the app set one of them itself: its value stands
            headers += [(name, value) for name, value in added if name not in present]
        return headers

    @staticmethod
    async def _send_error(send: Send, state: dict[str, Any], request_id: str) -> None:
        start, body = state["held"], b"".join(state["chunks"])
        state["held"] = None
        rewritten = _with_request_id(body, request_id) if len(body) <= _MAX_REWRITE else None
        if rewritten is not None:
            body = rewritten
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            start = {**start, "headers": headers}
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _log(self, scope: dict[str, Any], status: int, started: float, request_id: str) -> None:
        practice = scope.get("path_params", {}).get("practice_id")
        self.access.write(
            request_id,
            method=scope.get("method"),
            path=scope["path"],
            route=scope.get("path_template"),
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            practice=None if practice is None else str(practice),
            client=(scope.get("client") or ("-", 0))[0],
        )


def _is_json(headers: list[Any]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return b"json" in value.lower()
    return False
