"""Recording a practice's SCIM traffic from the console: open a window of a chosen length
(at most a day), see until when it runs, stop it, and download the trace it left.

The window is kept in the database (``server.persistence.repositories.record_windows``), so
every worker and host records it (``server.ops.recording``), and it ends by itself at its ``until``.
Every action is written to the practice's audit log. The trace is what the workers of this
host wrote for the practice's latest window, merged into one file (docs/trace-format.md),
secrets already redacted when it was written.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from server.domain.clock import utcnow
from server.domain.errors import InvalidValue
from server.domain.practices import AuditEntry
from server.ops.record_windows import RecordWindow, merged_trace, window_traces

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from uuid import UUID

    from server.domain.ports import AuditRepository

__all__ = ["DURATIONS", "RecordingService", "WindowStore"]

#: The lengths an administrator can choose, by form value: label and length.
DURATIONS: dict[str, tuple[str, timedelta]] = {
    "15m": ("15 minutes", timedelta(minutes=15)),
    "1h": ("1 hour", timedelta(hours=1)),
    "24h": ("24 hours", timedelta(hours=24)),
}


class WindowStore(Protocol):
    async def get(self, practice_id: str) -> str | None: ...
    async def put(self, practice_id: str, value: str) -> None: ...


class RecordingService:
    def __init__(
        self,
        windows: WindowStore,
        audit: AuditRepository,
        folder: Path | str,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._windows, self._audit, self._folder = windows, audit, Path(folder)
        self._now = clock

    def now(self) -> datetime:
        return self._now()

    async def window(self, practice_id: UUID) -> RecordWindow | None:
        """The practice's latest window, on or ended; None if it never recorded."""
        stored = await self._windows.get(str(practice_id))
        return RecordWindow.decode(stored) if stored else None

    async def start(self, practice_id: UUID, duration: str, *, actor: str) -> RecordWindow:
        if duration not in DURATIONS:
            raise InvalidValue(f"choose how long to record: {', '.join(DURATIONS)}")
        label, length = DURATIONS[duration]
        now = self._now()
        window = RecordWindow(now, now + length, actor)
        await self._windows.put(str(practice_id), window.encode())
        until = window.until.isoformat(timespec="seconds")
        await self._record(
            practice_id, actor, "scim.recording_started", f"for={label} until={until}"
        )
        return window

    async def stop(self, practice_id: UUID, *, actor: str) -> None:
        window, now = await self.window(practice_id), self._now()
        if window is None or not window.on(now):
            return
        stopped = RecordWindow(window.started_at, now, window.by)
        await self._windows.put(str(practice_id), stopped.encode())
        await self._record(practice_id, actor, "scim.recording_stopped", "")

    def traces(self, practice_id: UUID, window: RecordWindow | None) -> list[Path]:
        return window_traces(self._folder, str(practice_id), window) if window else []

    async def trace(self, practice_id: UUID, *, actor: str) -> tuple[str, str] | None:
        """The latest window's trace as (file name, text), or None when nothing was recorded."""
        window = await self.window(practice_id)
        paths = self.traces(practice_id, window)
        if window is None or not paths:
            return None
        text = merged_trace(paths)
        name = paths[0].name.rsplit("-", 1)[0] + ".jsonl"  # without the worker's process id
        await self._record(practice_id, actor, "scim.trace_downloaded", f"file={name}")
        return name, text

    async def _record(self, practice_id: UUID, actor: str, action: str, detail: str) -> None:
        await self._audit.record(AuditEntry(practice_id, actor, action, detail, self._now()))
