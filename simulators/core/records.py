"""What a sync engine keeps about its runs: failures, quarantines, cycles, connection tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulators.core.engine import Outcome

__all__ = ["ConnectionReport", "CycleReport", "Failure", "Quarantine"]


@dataclass
class Failure:
    key: str
    detail: str
    status: int | None
    at: float
    attempts: int = 1
    auth: bool = False
    compliance: bool = False


@dataclass
class Quarantine:
    since: float
    reason: str
    next_run: float
    failed_retries: int = 0
    retries: list[float] = field(default_factory=list)
    exited_at: float | None = None
    disabled: bool = False


@dataclass
class CycleReport:
    number: int
    kind: str
    started: float
    finished: float = 0.0
    processed: int = 0
    failures: dict[str, Failure] = field(default_factory=dict)
    quarantine_reason: str | None = None


@dataclass
class ConnectionReport:
    outcomes: list[Outcome]

    @property
    def ok(self) -> bool:
        """Every probe answered 2xx with a ListResponse; filter probes matched nothing."""
        for o in self.outcomes:
            if not o.ok or not isinstance(o.body, dict):
                return False
            if "filter" in dict(o.request.query) and o.body.get("totalResults") != 0:
                return False
        return bool(self.outcomes)

    @property
    def quarantine_worthy(self) -> bool:
        """A filter that matches nothing answered 404 or 400 (idp-behaviors §1.2)."""
        return any(o.status in (400, 404) for o in self.outcomes)
