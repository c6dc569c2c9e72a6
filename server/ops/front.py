"""``Front``: the ASGI application that is served (by granian, and to test clients): the
edge (``server.ops.edge``) around the Litestar app, with its fast routes
(``server.ops.dispatch``), and the traffic recorder around the edge.

The traffic recorder wraps the edge here, so it sees what the client received, request-id
rewritten errors and fast routes included; the activity log observes inside the edge
(``EdgeMiddleware.observe``), where the request id and the route are known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.ops.recording import recorder_for

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from litestar import Litestar
    from litestar.datastructures import State

    from server.ops.edge import EdgeMiddleware
    from server.ops.recording import TrafficRecorder
    from server.settings import Settings

__all__ = ["Front"]


class Front:
    def __init__(self, app: Litestar, edge: EdgeMiddleware, settings: Settings) -> None:
        self.litestar = app
        self.edge = edge
        self._settings = settings
        self.recorder: TrafficRecorder | None = None
        self._entry: Any = edge

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._entry(scope, receive, send)

    @property
    def state(self) -> State:
        return self.litestar.state

    def lifespan(self) -> AbstractAsyncContextManager[None]:
        """The Litestar app's start-up and shutdown, for callers that serve it themselves."""
        return self.litestar.lifespan()

    def start(self) -> None:
        """At start-up: the recorder around the edge (it passes requests on while no
        recording window is open)."""
        self.stop()
        self.recorder = recorder_for(self.edge, self._settings)
        self._entry = self.recorder

    def stop(self) -> None:
        if self.recorder is not None:
            self.recorder.close()
        self.edge.access.close()
