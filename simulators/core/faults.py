"""Server misbehaviour injected on the client side, so any target can play E-16, E-17, O-10.

A fault matches requests by method, label and path, optionally only after the first
``after`` matches, at most ``times`` times, and only inside a window of run time. It either
answers in place of the server (a status, a ``Retry-After``, a SCIM error body) or makes the
server look slow (``stall`` seconds; longer than the dialect's timeout means a timeout).
Injected exchanges are recorded and marked as such.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from simulators.core.clock import parse_duration

__all__ = ["Fault", "Faults"]

_FIELDS = ("status", "retry_after", "stall", "method", "label", "path", "after", "times")


@dataclass
class Fault:
    status: int | None = None
    retry_after: float | None = None
    stall: float | None = None
    method: str | None = None
    label: str | None = None
    path: str | None = None
    after: int = 0
    times: int | None = None
    start: float = 0.0
    until: float | None = None
    detail: str | None = None
    seen: int = field(default=0, compare=False)
    fired: int = field(default=0, compare=False)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], *, now: float) -> Fault:
        unknown = set(raw) - {*_FIELDS, "from", "until", "detail"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        values: dict[str, Any] = {k: raw[k] for k in _FIELDS if k in raw}
        for name in ("retry_after", "stall"):
            if name in values:
                values[name] = parse_duration(values[name])
        fault = cls(**values, detail=raw.get("detail"))
        fault.start = now + parse_duration(raw.get("from", 0))
        if "until" in raw:
            fault.until = now + parse_duration(raw["until"])
        if fault.status is None and fault.stall is None:
            raise ValueError("a fault needs a status or a stall")
        return fault

    def matches(self, method: str, path: str, label: str, now: float) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.label and not fnmatch.fnmatchcase(label, self.label):
            return False
        if self.path and not fnmatch.fnmatchcase(path, f"*{self.path}"):
            return False
        if now < self.start or (self.until is not None and now >= self.until):
            return False
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.fired += 1
        return True

    def response(self, request: httpx.Request) -> httpx.Response:
        status = self.status or 503
        headers = {"Content-Type": "application/scim+json"}
        if self.retry_after is not None:
            headers["Retry-After"] = f"{self.retry_after:g}"
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": str(status),
            "detail": self.detail or f"injected by the simulator: {status}",
        }
        return httpx.Response(status, headers=headers, content=json.dumps(body), request=request)


class Faults:
    def __init__(self) -> None:
        self.active: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.active.append(fault)

    def clear(self) -> None:
        self.active.clear()

    def pick(self, method: str, path: str, label: str, now: float) -> Fault | None:
        for fault in self.active:
            if fault.matches(method, path, label, now):
                return fault
        return None
