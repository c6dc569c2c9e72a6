"""One HTTP exchange through ``EdgeMiddleware`` with a recording ``send``, for unit tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.ops.edge import EdgeMiddleware


async def through_edge(
    edge: EdgeMiddleware, path: str, headers: list[tuple[bytes, bytes]] | None = None
) -> list[dict[str, Any]]:
    """The ASGI messages the edge sends for a GET of ``path``."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "headers": headers or [],
        "query_string": b"",
    }
    await edge(scope, receive, send)
    return sent
