"""Recording practices' SCIM traffic to traces, for a bounded time (off by default).

Two ways to start one, both writing the format ``scimlab record`` writes and ``scimlab
simulate replay`` reads (docs/trace-format.md), secrets redacted, one file per worker process
in ``SCIMLAB_RECORD_DIR``:

* the setting: ``SCIMLAB_RECORD_PRACTICE`` names a practice, recorded from start-up for
  ``SCIMLAB_RECORD_SECONDS`` (at most a day), pseudonymised with ``SCIMLAB_RECORD_PSEUDONYMISE``;
* the console (Settings → SCIM Provisioning): an administrator opens a window of at most a
  day (``RecordWindow``), kept in the database
  (``server.persistence.repositories.record_windows``) so that every worker and host records
  it. A worker reads the windows at most every ``REFRESH_SECONDS``, and only while SCIM
  requests arrive; a window ends by itself at its
  ``until`` (or when stopped: ``until`` becomes the time of the stop).

The one hook is in ``server.ops.front``, around the edge, so it records what the identity
provider received (request-id rewritten errors and requests of fast routes included). With no
window open it only passes requests on. Lines are written as exchanges finish, on the event
loop, only while a recording is on.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import parse_qsl

from server.ops.record_windows import MAX_RECORD_SECONDS, RecordWindow, stamp
from server.persistence.repositories.record_windows import window_store
from simulators.core.pseudonym import Pseudonymiser
from simulators.core.trace import HOP_BY_HOP, TraceExchange, TraceWriter, decode_body

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from server.settings import Settings

    Message = dict[str, Any]
    ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

__all__ = [
    "MAX_RECORD_SECONDS",
    "REFRESH_SECONDS",
    "TrafficRecorder",
    "recorder_for",
]

REFRESH_SECONDS = 2.0
_RECORDERS = itertools.count(1)
SCIM_PREFIX = "/scim/v2/"
_log = logging.getLogger(__name__)


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in raw:
        name = key.decode("latin-1").lower()
        if name not in HOP_BY_HOP and name != "host":
            out[name] = value.decode("latin-1")
    return out


class _Sink:
    """One trace file being written: a practice's exchanges, ``at`` counted from ``started``."""

    def __init__(
        self, out: Path, base: str, prefix: str, started: float, pseudonymise: bool
    ) -> None:
        self.out, self.base, self.prefix, self.started = out, base, prefix, started
        self.pseudonymise = pseudonymise
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
        if self._stream is not None:
            self._stream.close()
            self._stream = None
            self._writer = None

    def write(
        self,
        scope: dict[str, Any],
        at: float,
        *,
        elapsed: float,
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
                at=max(at - self.started, 0.0),
                method=scope["method"],
                path=path[len(self.prefix) :] or "/",
                status=int(answer["status"]),
                query=parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True),
                request_headers=request_headers,
                request_body=decode_body(body, request_headers.get("content-type", "")),
                response_headers=response_headers,
                response_body=decode_body(raw, response_headers.get("content-type", "")),
                elapsed=elapsed,
            )
        )


class TrafficRecorder:
    """ASGI middleware writing SCIM exchanges: the configured practice's until ``seconds``
    have passed, and any practice's while a console window (read from ``windows``) is on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        practice: str = "",
        seconds: float = MAX_RECORD_SECONDS,
        out: Path | None = None,
        base: str = "",
        pseudonymise: bool = False,
        clock: Callable[[], float] = time.monotonic,
        windows: Callable[[], Awaitable[dict[str, str]]] | None = None,
        folder: Path | None = None,
        base_for: Callable[[str], str] = str,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < seconds <= MAX_RECORD_SECONDS:
            msg = f"SCIMLAB_RECORD_SECONDS must be more than 0 and at most {MAX_RECORD_SECONDS:g}"
            raise ValueError(msg)
        self.app = app
        self.practice = practice
        self.prefix = f"{SCIM_PREFIX}{practice}"
        self.clock = clock
        self.started = clock()
        self.until = self.started + seconds
        self.on = bool(practice) and out is not None
        self._sink = _Sink(out, base, self.prefix, self.started, pseudonymise) if out else None
        self.windows, self.folder, self.base_for, self.wall = windows, folder, base_for, wall
        self._open: dict[str, RecordWindow] = {}
        self._fresh_until = float("-inf")
        self._sinks: dict[tuple[str, datetime], _Sink] = {}
        self._name = f"{os.getpid()}.{next(_RECORDERS)}"

    def _stop_configured(self) -> None:
        self.on = False
        if self._sink is not None:
            self._sink.close()

    def close(self) -> None:
        self._stop_configured()
        for sink in self._sinks.values():
            sink.close()
        self._sinks.clear()

    async def _window_sink(self, practice: str) -> tuple[_Sink, float] | None:
        """The sink of ``practice``'s open console window and the time now, if one is on."""
        now = self.wall()
        if now >= self._fresh_until and self.windows is not None:
            self._fresh_until = now + REFRESH_SECONDS
            try:
                stored = await self.windows()
            except Exception:  # the database is down: keep what was known, try again later
                _log.warning("recording windows could not be read", exc_info=True)
            else:
                self._open = {
                    p: w for p, value in stored.items() if (w := RecordWindow.decode(value))
                }
        window = self._open.get(practice)
        if window is None and not self._sinks:
            return None  # the common case: nothing recorded anywhere
        moment = datetime.fromtimestamp(now, UTC)
        key = (practice, window.started_at) if window else None
        for old in [k for k in self._sinks if k[0] == practice and k != key]:
            self._sinks.pop(old).close()
        if window is None or self.folder is None or not window.on(moment):
            if key in self._sinks:
                self._sinks.pop(key).close()  # the window ended: its file is complete
            return None
        sink = self._sinks.get(key)  # type: ignore[arg-type]
        if sink is None:
            # one file per recorder: per worker process (and per app within a process)
            name = f"trace-{practice}-{stamp(window.started_at)}-{self._name}.jsonl"
            prefix = f"{SCIM_PREFIX}{practice}"
            sink = _Sink(
                self.folder / name,
                self.base_for(practice),
                prefix,
                window.started_at.timestamp(),
                pseudonymise=False,
            )
            self._sinks[key] = sink  # type: ignore[index]
        return sink, now

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(SCIM_PREFIX):
            await self.app(scope, receive, send)
            return
        practice = path[len(SCIM_PREFIX) :].split("/", 1)[0].lower()
        found: tuple[_Sink, float] | None = None
        clock = self.clock
        if self.on and practice == self.practice:
            now = clock()
            if now >= self.until:
                self._stop_configured()
            elif self._sink is not None:
                found = (self._sink, now)
        if found is None and self.windows is not None:
            found = await self._window_sink(practice)
            clock = self.wall
        if found is None:
            await self.app(scope, receive, send)
            return
        sink, at = found
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
            if answer:
                elapsed, raw = clock() - at, b"".join(sent)
                sink.write(
                    scope, at, elapsed=elapsed, body=b"".join(chunks), answer=answer, raw=raw
                )


def recorder_for(app: ASGIApp, settings: Settings) -> TrafficRecorder:
    """The recorder around ``app``: the practice the settings name (if any) from now, and
    the windows the console opens."""
    practice = settings.record_practice
    folder = Path(settings.record_dir)
    windows = window_store(settings.database_url)
    if not practice:
        return TrafficRecorder(
            app, windows=windows.all, folder=folder, base_for=settings.scim_base_url
        )
    out = folder / f"trace-{practice}-{stamp(datetime.now(UTC))}-{os.getpid()}.jsonl"
    return TrafficRecorder(
        app,
        practice=practice,
        seconds=settings.record_seconds,
        out=out,
        base=settings.scim_base_url(practice),
        pseudonymise=settings.record_pseudonymise,
        windows=windows.all,
        folder=folder,
        base_for=settings.scim_base_url,
    )
