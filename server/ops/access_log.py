"""The access log: one JSON line per HTTP exchange, written without a ``LogRecord``.

Through :mod:`logging`, each line would cost a record, the queue handler's copy of it and a
hand-off to the listener thread, a large share of a fast request. Here a request leaves its
fields in a ``msgspec`` struct (the same keys, in the same order, as
:class:`server.ops.logs.JsonFormatter` writes), and a writer thread encodes what has gathered
in one call and sends it to standard error every few milliseconds, so the event loop never
waits on the stream.

The ``scimlab.access`` logger still decides: lines are written only while it is enabled for
INFO (``SCIMLAB_LOG_LEVEL``), and records sent to it through :mod:`logging` (warnings such as
a missed deadline) go the ordinary way.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import TextIO

import msgspec

__all__ = ["ACCESS_LOGGER", "AccessLog"]

ACCESS_LOGGER = "scimlab.access"
_encode_lines = msgspec.json.Encoder().encode_lines


class _Line(msgspec.Struct):
    ts: str
    level: str
    logger: str
    message: str
    request_id: str | None
    pid: int
    method: str | None
    path: str | None
    route: str | None
    status: int
    duration_ms: float
    practice: str | None
    client: str


class AccessLog:
    """Formats access lines at once; one daemon thread writes them in batches."""

    def __init__(self, stream: TextIO | None = None, *, interval_s: float = 0.02) -> None:
        self._logger = logging.getLogger(ACCESS_LOGGER)
        # Bound now, as a StreamHandler binds its stream: where the app was made, it writes.
        self._stream = stream if stream is not None else sys.stderr
        self._interval = interval_s
        self._lines: deque[_Line] = deque()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._writer_pid = 0  # a writer thread does not survive a fork: start one per process
        self._stopping = threading.Event()
        self._second, self._second_text = -1, ""

    @property
    def writing(self) -> bool:
        """Whether this process has a writer thread running."""
        return self._writer is not None and self._writer.is_alive()

    def write(
        self,
        request_id: str | None,
        *,
        method: str | None,
        path: str | None,
        route: str | None,
        status: int,
        duration_ms: float,
        practice: str | None,
        client: str,
    ) -> None:
        """One line: ``ts, level, logger, message, request_id, pid`` and then the fields."""
        if not self._logger.isEnabledFor(logging.INFO):
            return
        pid = os.getpid()
        self._lines.append(
            _Line(
                self._timestamp(),
                "info",
                ACCESS_LOGGER,
                f"{method} {path} {status}",
                request_id,
                pid,
                method,
                path,
                route,
                status,
                duration_ms,
                practice,
                client,
            )
        )
        if pid != self._writer_pid:
            self._start(pid)

    def _timestamp(self) -> str:
        """Now in UTC, ISO 8601 with milliseconds and ``Z``, as every JSON output writes dates; the
        date and time of day are formatted once a second (the datetime cost a third of a line)."""
        second, micro = divmod(time.time_ns() // 1000, 1_000_000)
        if second != self._second:
            moment = datetime.fromtimestamp(second, UTC)
            self._second, self._second_text = second, moment.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._second_text}.{micro // 1000:03d}Z"

    def _start(self, pid: int) -> None:
        with self._lock:
            if pid != self._writer_pid:
                self._writer_pid = pid
                self._stopping = threading.Event()
                self._writer = threading.Thread(
                    target=self._run, name="scimlab-access-log", daemon=True
                )
                self._writer.start()

    def _run(self) -> None:
        stopping = self._stopping
        while not stopping.wait(self._interval):
            self.flush()
        self.flush()

    def flush(self) -> None:
        """Write every line gathered so far (also called at shutdown)."""
        batch: list[_Line] = []
        while self._lines:
            batch.append(self._lines.popleft())
        if not batch:
            return
        try:
            self._stream.write(_encode_lines(batch).decode())
            self._stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken stream must not take the server down with it

    def close(self) -> None:
        """Stop the writer after it has written everything gathered."""
        writer = self._writer
        self._stopping.set()
        if writer is not None and writer is not threading.current_thread():
            writer.join(timeout=5)
        self._writer, self._writer_pid = None, 0
        self.flush()
