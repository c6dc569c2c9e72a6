"""Recording one practice's SCIM traffic to a trace, for a bounded time (off by default).

``SCIMLAB_RECORD_PRACTICE`` names the practice; from start-up, for ``SCIMLAB_RECORD_SECONDS``
(at most a day), every exchange under ``/scim/v2/<practice>`` is written to a trace in
``SCIMLAB_RECORD_DIR`` (one file per worker process), in the format ``scimlab record``
writes and ``scimlab simulate replay`` reads (docs/trace-format.md): secrets redacted, and
personal data pseudonymised with ``SCIMLAB_RECORD_PSEUDONYMISE``.

The one hook is in ``server.ops.front``: when no practice is named this class is never built, so
the request path is untouched; once the time is up it only passes requests on. It wraps the
edge, so it records what the identity provider received (request-id rewritten errors and
requests of fast routes included). Lines are written as exchanges finish, on the event
loop: a few tens of microseconds each, only while a recording is on.
"""

from __future__ import annotations

import itertools
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import parse_qsl

from simulators.core.pseudonym import Pseudonymiser
from simulators.core.trace import HOP_BY_HOP, TraceExchange, TraceWriter, decode_body

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from server.settings import Settings

    Message = dict[str, Any]
    ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

__all__ = ["MAX_RECORD_SECONDS", "TrafficRecorder", "recorder_for"]

MAX_RECORD_SECONDS = 86400.0


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in raw:
        name = key.decode("latin-1").lower()
        if name not in HOP_BY_HOP and name != "host":
            out[name] = value.decode("latin-1")
    return out


class TrafficRecorder:
    """ASGI middleware writing a practice's SCIM exchanges until ``seconds`` have passed."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        practice: str,
        seconds: float,
        out: Path,
        base: str,
        pseudonymise: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < seconds <= MAX_RECORD_SECONDS:
            msg = f"SCIMLAB_RECORD_SECONDS must be more than 0 and at most {MAX_RECORD_SECONDS:g}"
            raise ValueError(msg)
        self.app = app
        self.prefix = f"/scim/v2/{practice}"
        self.out, self.base, self.pseudonymise = out, base, pseudonymise
        self.clock = clock
        self.started = clock()
        self.until = self.started + seconds
        self.on = True
        self._seq = itertools.count(1)
        self._stream: TextIO | None = None
        self._writer: TraceWriter | None = None

    def _trace(self) -> TraceWriter:
        if self._writer is None:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self._stream = self.out.open("a", encoding="utf-8")
            pseudonymiser = Pseudonymiser() if self.pseudonymise else None
            self._writer = TraceWriter(
                self._stream, source="server", base=self.base, pseudonymiser=pseudonymiser
            )
        return self._writer

    def close(self) -> None:
        self.on = False
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not self.on or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            await self.app(scope, receive, send)
            return
        at = self.clock()
        if at >= self.until:
            self.close()
            await self.app(scope, receive, send)
            return
        sent: list[bytes] = []
        answer: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep_receive() -> Message:
            message: Message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        async def keep_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.update(status=message["status"], headers=message.get("headers", []))
            elif message["type"] == "http.response.body":
                sent.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, keep_receive, keep_send)
        finally:
            if answer and self.on:
                self._write(scope, at, b"".join(chunks), answer, b"".join(sent))

    def _write(
        self,
        scope: dict[str, Any],
        at: float,
        body: bytes,
        answer: dict[str, Any],
        raw: bytes,
    ) -> None:
        path: str = scope["path"]
        request_headers = _headers(scope["headers"])
        response_headers = _headers(answer["headers"])
        self._trace().write(
            TraceExchange(
                seq=next(self._seq),
                at=at - self.started,
                method=scope["method"],
                path=path[len(self.prefix) :] or "/",
                status=int(answer["status"]),
                query=parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True),
                request_headers=request_headers,
                request_body=decode_body(body, request_headers.get("content-type", "")),
                response_headers=response_headers,
                response_body=decode_body(raw, response_headers.get("content-type", "")),
                elapsed=self.clock() - at,
            )
        )


def recorder_for(app: ASGIApp, settings: Settings) -> TrafficRecorder | None:
    """The recorder the settings ask for, around ``app``; ``None`` when recording is off."""
    practice = settings.record_practice
    if not practice:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(settings.record_dir) / f"trace-{practice}-{stamp}-{os.getpid()}.jsonl"
    return TrafficRecorder(
        app,
        practice=practice,
        seconds=settings.record_seconds,
        out=out,
        base=settings.scim_base_url(practice),
        pseudonymise=settings.record_pseudonymise,
    )
