"""The console's recording windows and the trace files they leave (``server.ops.recording``
writes them; Settings → SCIM Provisioning opens, stops and downloads them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["MAX_RECORD_SECONDS", "RecordWindow", "merged_trace", "stamp", "window_traces"]

MAX_RECORD_SECONDS = 86400.0


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class RecordWindow:
    """A recording the console opened: from ``started_at`` until ``until`` (UTC)."""

    started_at: datetime
    until: datetime
    by: str

    def on(self, now: datetime) -> bool:
        return self.started_at <= now < self.until

    def encode(self) -> str:
        return json.dumps(
            {
                "started_at": self.started_at.isoformat(),
                "until": self.until.isoformat(),
                "by": self.by,
            }
        )

    @classmethod
    def decode(cls, value: str) -> RecordWindow | None:
        """The window a stored value holds; ``None`` for one that cannot be read."""
        try:
            data = json.loads(value)
            window = cls(
                datetime.fromisoformat(data["started_at"]),
                datetime.fromisoformat(data["until"]),
                str(data.get("by", "")),
            )
        except (ValueError, TypeError, KeyError):
            return None
        span = window.until - window.started_at
        if window.started_at.tzinfo is None or span > timedelta(seconds=MAX_RECORD_SECONDS):
            return None
        return window


def window_traces(folder: Path, practice: str, window: RecordWindow) -> list[Path]:
    """The files every worker wrote for ``window`` of ``practice``."""
    return sorted(folder.glob(f"trace-{practice}-{stamp(window.started_at)}-*.jsonl"))


def merged_trace(paths: Iterable[Path]) -> str:
    """One trace of the workers' files of a window: the first header, then every exchange
    in order of arrival (``at`` counts from the window's start in every file), renumbered."""
    header: str | None = None
    lines: list[tuple[float, int, dict[str, Any]]] = []
    for path in paths:
        with path.open(encoding="utf-8") as stream:
            for number, text in enumerate(stream):
                if not text.strip():
                    continue
                if number == 0:
                    header = header or text.strip()
                    continue
                if not text.endswith("\n"):
                    break  # a worker is writing this line right now
                line = json.loads(text)
                lines.append((float(line["at"]), len(lines), line))
    if header is None:
        return ""
    out = [header]
    for seq, (_, _, line) in enumerate(sorted(lines, key=lambda x: x[:2]), start=1):
        line["seq"] = seq
        out.append(json.dumps(line, ensure_ascii=False))
    return "\n".join(out) + "\n"
