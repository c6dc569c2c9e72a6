"""``StatusWatch``: the ``send`` a layer passes inward to learn the status of the response."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litestar.types import Message, Send

__all__ = ["StatusWatch"]


class StatusWatch:
    """Passes every message on to ``send`` and keeps the response's status (0 until the
    response has started)."""

    __slots__ = ("_send", "status")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 0

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self._send(message)
