"""A fast lane past Litestar's router for the few routes a shortcut answers.

A shortcut (``server.scim.shortcuts``) is the innermost middleware of its route: a request it
answers still went through the router, which parses the path again for every new user id
(its cache holds 1,024 paths), an exception layer, and the metrics and rate-limit middlewares,
each wrapping ``send`` once more. Measured in process, those layers were a third of a read by
id's CPU. The lane, called by the edge, matches a lane route's path with one regular
expression, sets what the router would have set (path parameters, route handler, path
template, exception handlers), and runs the route's own metrics and rate-limit middlewares
(their ``begin``/``end`` and ``admit``/``settle``) and its shortcut with one ``send`` wrapper.

A request the lane does not take (another route, a path the router would first normalise, a
``root_path``, a bad ``Host``, or one the shortcut itself refuses) goes the usual way. At
start-up ``bind`` finds each route's stack in the router and refuses one with a layer it does
not know, so a middleware added to the app later is never skipped by the lane.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from litestar._asgi.utils import is_valid_host, wrap_in_exception_handler
from litestar.utils.scope.state import ScopeState

from server.ops.metrics import ScimlabPrometheusMiddleware
from server.ops.ratelimit import REFUSED, RateLimitMiddleware
from server.ops.status import StatusWatch

if TYPE_CHECKING:
    import re
    from collections.abc import Awaitable, Callable, Mapping

    from litestar import Litestar
    from litestar.types import Receive, Scope, Send

__all__ = ["Lane", "LaneRoute", "Shortcut", "answer_failure"]


async def answer_failure(error: Exception, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer ``error``, raised before any response was sent, as Litestar's exception layer
    does (its logging and hooks, then the route's exception handlers). Called only on
    failure, so a request that succeeds does not pay that layer's ``send`` wrapper."""

    async def fail(_scope: Scope, _receive: Receive, _send: Send) -> None:
        raise error

    await wrap_in_exception_handler(fail)(scope, receive, send)


class Shortcut(Protocol):
    def takes(self, scope: Scope) -> bool:
        """Whether the shortcut answers this request."""
        ...

    async def respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request; a failure is written by the route's exception handlers."""
        ...


@dataclass(frozen=True, slots=True)
class LaneRoute:
    """One route the lane serves: ``pattern``'s named groups are its path parameters, each
    converted as the router converts it (``convert``); ``sample`` is a path of the route."""

    method: str
    pattern: re.Pattern[str]
    sample: str
    convert: Mapping[str, Callable[[str], Any]]


class _Bound:
    """A lane route with the parts of its stack found in the router."""

    def __init__(self, route: LaneRoute, app: Litestar) -> None:
        stack, handler, _, _, template = app.asgi_router.handle_routing(
            path=route.sample, method=route.method
        )
        self.route, self.handler, self.template = route, handler, template
        self.exception_handlers = handler.resolve_exception_handlers()
        self.metrics: ScimlabPrometheusMiddleware | None = None
        self.limits: RateLimitMiddleware | None = None
        layer: Any = stack
        while isinstance(layer, ScimlabPrometheusMiddleware | RateLimitMiddleware):
            if isinstance(layer, ScimlabPrometheusMiddleware):
                self.metrics = layer
            else:
                self.limits = layer
            layer = layer.app
        if not (callable(getattr(layer, "takes", None)) and hasattr(layer, "respond")):
            msg = f"{route.method} {template}: {type(layer).__name__} is not a shortcut"
            raise TypeError(msg)
        self.shortcut: Shortcut = layer

    def enter(self, scope: dict[str, Any], found: re.Match[str]) -> bool:
        """Route ``scope`` here as the router would, if the shortcut takes it."""
        routed = cast("Scope", scope)
        if not self.shortcut.takes(routed):
            return False
        convert = self.route.convert
        scope["path_params"] = {name: convert[name](t) for name, t in found.groupdict().items()}
        scope["route_handler"] = self.handler
        scope["path_template"] = self.template
        ScopeState.from_scope(routed).exception_handlers = self.exception_handlers
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics, limits = self.metrics, self.limits
        watch = StatusWatch(send)
        measure = metrics.begin(scope) if metrics is not None else None
        plan = None
        try:
            plan = await limits.admit(scope, receive, watch) if limits is not None else None
            if plan is not REFUSED:
                await self.shortcut.respond(scope, receive, watch)
        except Exception as error:
            if watch.status:
                raise  # too late to answer, as in Litestar's exception layer
            await answer_failure(error, scope, receive, watch)
        finally:
            if limits is not None and plan is not None and plan is not REFUSED:
                await limits.settle(plan, watch.status)
            if metrics is not None and measure is not None:
                metrics.end(measure, watch.status)


class Lane:
    """The lane routes of one app, bound to it at start-up (``bind``)."""

    def __init__(self, routes: list[LaneRoute]) -> None:
        self._routes = routes
        self._bound: dict[str, list[_Bound]] = {}

    def bind(self, app: Litestar) -> None:
        bound: dict[str, list[_Bound]] = {}
        for route in self._routes:
            bound.setdefault(route.method, []).append(_Bound(route, app))
        self._bound = bound

    def take(self, scope: dict[str, Any]) -> Callable[[Any, Any, Any], Awaitable[None]] | None:
        """The lane's app for this request (its scope routed), or None: the usual way."""
        candidates = self._bound.get(scope["method"])
        if not candidates or scope.get("root_path"):
            return None
        path: str = scope["path"]
        for bound in candidates:
            found = bound.route.pattern.fullmatch(path)
            if found is not None:
                if not _valid_host(scope) or not bound.enter(scope, found):
                    return None
                return bound
        return None


def _valid_host(scope: dict[str, Any]) -> bool:
    for name, value in scope["headers"]:
        if name == b"host":
            return is_valid_host(value)
    return True
