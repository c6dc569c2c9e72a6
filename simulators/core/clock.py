"""Injectable time for the simulators.

Two kinds of waiting happen in a provisioning run. *Protocol waits* (a ``Retry-After``, a
backoff) must really pass when the server is real, because the server counts them. *Schedule
waits* (40 minutes between Entra cycles, 30 days in the recycle bin, +6 h in quarantine)
only matter to the identity provider's own bookkeeping, so they are always jumped over.

``RealClock`` sleeps for protocol waits and jumps schedule waits; ``VirtualClock`` jumps
both, which lets tests compress days into milliseconds. ``timeout_scale`` turns a dialect's
per-request timeout (seconds of IdP time) into real seconds of waiting.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Protocol

__all__ = ["Clock", "RealClock", "VirtualClock", "format_duration", "parse_duration"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


class Clock(Protocol):
    """What the engine, the auth flows and the scenario runner know about time."""

    timeout_scale: float

    def now(self) -> float:
        """Seconds on this run's timeline (IdP time)."""

    async def sleep(self, seconds: float) -> None:
        """A protocol wait: honoured for real by ``RealClock``."""

    def advance(self, seconds: float) -> None:
        """A schedule wait: always jumped over."""

    def waited(self, seconds: float) -> None:
        """A timeout of ``seconds`` IdP time ran out after ``seconds * timeout_scale`` real."""


class RealClock:
    """Wall-clock time plus the schedule waits that were jumped."""

    def __init__(self, *, timeout_scale: float = 1.0) -> None:
        self.timeout_scale = timeout_scale
        self._start = time.monotonic()
        self._offset = 0.0

    def now(self) -> float:
        return time.monotonic() - self._start + self._offset

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))

    def advance(self, seconds: float) -> None:
        self._offset += max(seconds, 0.0)

    def waited(self, seconds: float) -> None:
        self.advance(seconds * (1.0 - self.timeout_scale))


class VirtualClock:
    """Time that only moves when asked: every wait is instant and recorded."""

    def __init__(self, *, start: float = 0.0, timeout_scale: float = 1.0) -> None:
        self.timeout_scale = timeout_scale
        self._now = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._now += max(seconds, 0.0)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self._now += max(seconds, 0.0)

    def waited(self, seconds: float) -> None:
        self.advance(seconds)


def parse_duration(text: str | float) -> float:
    """``"90s"``, ``"40m"``, ``"1d12h"``, ``"250ms"`` or a number of seconds."""
    if isinstance(text, int | float):
        return float(text)
    raw = text.strip().replace(" ", "")
    try:
        return float(raw)
    except ValueError:
        pass
    parts = _PART.findall(raw)
    if not parts or "".join(n + u for n, u in parts) != raw:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 40m, 6h, 30d)")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def format_duration(seconds: float) -> str:
    """The shortest exact ``parse_duration`` spelling of whole seconds, e.g. ``1d6h``."""
    if seconds != int(seconds):
        return f"{seconds:g}s"
    remaining, out = int(seconds), []
    for unit in ("d", "h", "m", "s"):
        size = int(_UNITS[unit])
        if remaining >= size:
            out.append(f"{remaining // size}{unit}")
            remaining %= size
    return "".join(out) or "0s"
