"""Routes the edge answers without Litestar's router, under the same layers.

Litestar's router parses every path anew (its cache holds 1,024 paths, and each user id is a
new path), builds a ``Request`` and resolves a handler's dependencies; for the hottest SCIM
routes that was a third of a request's CPU. ``RouteDispatch`` matches the path of each of
its routes with one regular expression and runs that route's own middleware (found through
Litestar's public API, ``resolve_middleware()``) around the route's endpoint, which calls the
same operation as the Litestar handler. It takes every request whose path it matches; a path
it does not match (one the router would first normalise or convert, or another method on
the path) goes to Litestar, whose handler calls the same operation.

What it does not run it refuses at start-up (``RouteRefused``): a guard, a before/after
request or after response hook, a dependency other than those allowed, response headers or
cookies, response caching, and the app-wide CSRF, compression, allowed hosts, CORS and
``before_send`` settings. A layer added the ordinary Litestar way therefore never silently
misses a fast route.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from litestar.routes import HTTPRoute

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from litestar import Litestar
    from litestar.handlers import HTTPRouteHandler

    ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
    Failure = Callable[[Exception, Any, Any], Awaitable[None]]

__all__ = ["FastRoute", "RouteDispatch", "RouteRefused"]

_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# The parameter types a fast route can read: the text a segment must be, and its value.
_TYPES: dict[str, tuple[str, Callable[[str], Any]]] = {"uuid": (_UUID, UUID), "str": ("[^/]+", str)}
_PARAMETER = re.compile(r"\{(\w+):(\w+)\}")
# The characters the router accepts in a Host header before routing (it answers 400 else).
_HOST = re.compile(rb"\A[0-9A-Za-z!$&'()*+,;=\-._~:\[\]@%]*\Z")


class RouteRefused(RuntimeError):
    """A fast route whose Litestar route carries a layer the dispatch would not run."""


@dataclass(frozen=True, slots=True)
class FastRoute:
    """A Litestar route (``template`` as written on its handler, with ``{name:type}``
    parameters) that the dispatch answers with ``endpoint`` for ``method``. The endpoint
    answers its own failures, inside the route's middleware, which so see their status."""

    method: str
    template: str
    endpoint: ASGIApp


class _Template:
    def __init__(self, template: str, path_format: str) -> None:
        self.template = template
        self.path_format = path_format
        self.convert: dict[str, Callable[[str], Any]] = {}
        pattern, start = "", 0
        for found in _PARAMETER.finditer(template):
            name, kind = found.groups()
            if kind not in _TYPES:
                msg = f"{template}: a fast route cannot read a {kind!r} parameter"
                raise RouteRefused(msg)
            text, self.convert[name] = _TYPES[kind]
            pattern += re.escape(template[start : found.start()]) + f"(?P<{name}>{text})"
            start = found.end()
        self.pattern = re.compile(pattern + re.escape(template[start:]))
        self.stacks: dict[str, tuple[ASGIApp, HTTPRouteHandler]] = {}


def _refusals(app: Litestar) -> Iterable[str]:
    settings = {
        "csrf_config": app.csrf_config,
        "compression_config": app.compression_config,
        "allowed_hosts": app.allowed_hosts,
        "cors_config": app.cors_config,
        "before_send": app.before_send,
    }
    for name, value in settings.items():
        if value:
            yield f"the app's {name}"


def _handler_refusals(handler: HTTPRouteHandler, allowed: frozenset[str]) -> Iterable[str]:
    if handler.resolve_guards():
        yield "a guard"
    for hook in ("before_request", "after_request", "after_response"):
        if any(getattr(layer, hook, None) for layer in handler.ownership_layers):
            yield f"a {hook} hook"
    extra = sorted(set(handler.resolve_dependencies()) - allowed)
    if extra:
        yield f"the dependencies {', '.join(extra)}"
    if handler.resolve_response_headers() or handler.resolve_response_cookies():
        yield "response headers or cookies"
    if handler.cache:
        yield "response caching"


def _handler(app: Litestar, template: str, method: str) -> tuple[HTTPRouteHandler, str]:
    """The route's handler for ``method``, and the route's path as Litestar names it (the
    ``path_template`` of its scope, which metrics and logs label by)."""
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path == template:
            for handler in route.route_handlers:
                if method in handler.http_methods:
                    return handler, route.path_format
    msg = f"{method} {template}: the app has no such route for the fast route to answer"
    raise RouteRefused(msg)


def _stack(endpoint: ASGIApp, handler: HTTPRouteHandler) -> ASGIApp:
    """The route's middleware around ``endpoint``, built as Litestar builds a route's."""
    stack = endpoint
    for middleware in handler.resolve_middleware():
        if isinstance(middleware, tuple | list):
            factory, kwargs = cast("tuple[Any, dict[str, Any]]", middleware)
            stack = factory(app=stack, **kwargs)
        else:
            stack = cast("Any", middleware)(app=stack)
    return stack


class RouteDispatch:
    """The fast routes of one app, checked against it when built."""

    def __init__(
        self,
        app: Litestar,
        routes: list[FastRoute],
        *,
        failure: Failure,
        dependencies: frozenset[str] = frozenset(),
    ) -> None:
        refused = list(_refusals(app))
        templates: dict[str, _Template] = {}
        for route in routes:
            handler, path_format = _handler(app, route.template, route.method)
            refused += [
                f"{route.method} {route.template} has {what}"
                for what in _handler_refusals(handler, dependencies)
            ]
            template = templates.get(route.template) or _Template(route.template, path_format)
            templates[route.template] = template
            stack = self._guarded(_stack(route.endpoint, handler), failure)
            template.stacks[route.method] = (stack, handler)
        if refused:
            msg = "the edge's fast routes would not run: " + "; ".join(refused)
            raise RouteRefused(msg)
        # Literal segments before parameters, as the router prefers them.
        self._templates = sorted(templates.values(), key=lambda t: len(t.convert))
        self._app = app

    def take(self, scope: dict[str, Any]) -> ASGIApp | None:
        """The app that answers this request, its scope routed; None: Litestar's router."""
        if scope.get("root_path"):
            return None
        path: str = scope["path"]
        for template in self._templates:
            found = template.pattern.fullmatch(path)
            if found is None:
                continue
            chosen = template.stacks.get(scope["method"])
            if chosen is None or not _valid_host(scope):
                return None
            stack, handler = chosen
            convert = template.convert
            scope["path_params"] = {n: convert[n](v) for n, v in found.groupdict().items()}
            scope["path_template"] = template.path_format
            scope["route_handler"] = handler
            scope["app"] = scope["litestar_app"] = self._app
            return stack
        return None

    @staticmethod
    def _guarded(stack: ASGIApp, failure: Failure) -> ASGIApp:
        async def run(scope: Any, receive: Any, send: Any) -> None:
            watch = _Started(send)
            try:
                await stack(scope, receive, watch)
            except Exception as error:
                if watch.started:
                    raise  # too late to answer, as in Litestar's exception layer
                await failure(error, scope, send)

        return run


class _Started:
    """The ``send`` of a fast route: whether the response has started."""

    __slots__ = ("_send", "started")

    def __init__(self, send: Any) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Any) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _valid_host(scope: dict[str, Any]) -> bool:
    for name, value in scope["headers"]:
        if name == b"host":
            return _HOST.match(value) is not None
    return True
