"""Running checks against a target through an injected ``httpx.AsyncClient``.

The runner knows nothing about the target's implementation: pass it a client for a real URL
(``httpx.AsyncClient()``) or an in-process one (``httpx.ASGITransport``, Litestar's test
client). Each check gets a clean log and its cleanups run when it ends, whatever happened.
"""

from __future__ import annotations

import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import httpx

from conformance.exchange import Exchange
from conformance.registry import AREAS, Area, Check, all_checks
from conformance.session import CheckFailed, NotApplicable, Session

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from conformance.target import Target

__all__ = ["CheckResult", "Outcome", "RunReport", "run_checks"]


class Outcome(Enum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: Check
    outcome: Outcome
    message: str = ""
    evidence: Exchange | None = None
    exchanges: tuple[Exchange, ...] = ()
    notes: tuple[str, ...] = ()
    duration_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.check.id,
            "title": self.check.title,
            "area": self.check.area.code,
            "rule": self.check.rule,
            "profile": self.check.profile,
            "outcome": self.outcome.value,
            "message": self.message,
            "evidence": self.evidence.as_dict() if self.evidence else None,
            "exchanges": [e.as_dict() for e in self.exchanges],
            "notes": list(self.notes),
            "duration_s": round(self.duration_s, 3),
        }


@dataclass(slots=True)
class RunReport:
    target: dict[str, str | None]
    profile: str = "platform"
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    results: list[CheckResult] = field(default_factory=list)
    #: New client id and secret when lifecycle checks rotated them (never written to files).
    rotated_credentials: tuple[str, str] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"RunReport({self.run_id}, {self.counts()}, failed={sorted(self.ids(Outcome.FAIL))})"

    def in_order(self) -> list[CheckResult]:
        """Results by area, then id (the run order puts credential-rotating checks last)."""
        rank = {area: index for index, area in enumerate(AREAS)}
        return sorted(self.results, key=lambda r: (rank[r.check.area], r.check.id))

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.in_order() if r.outcome is Outcome.FAIL]

    @property
    def ok(self) -> bool:
        return not self.failed

    def ids(self, outcome: Outcome) -> set[str]:
        return {r.check.id for r in self.results if r.outcome is outcome}

    def outcome_of(self, check_id: str) -> Outcome:
        return next(r.outcome for r in self.results if r.check.id == check_id)

    def counts(self, area: Area | None = None) -> dict[str, int]:
        chosen = [r for r in self.results if area is None or r.check.area is area]
        return {o.value: sum(1 for r in chosen if r.outcome is o) for o in Outcome}

    def areas(self) -> list[Area]:
        present = {r.check.area for r in self.results}
        return [a for a in AREAS if a in present]

    @property
    def duration_s(self) -> float:
        end = self.finished_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()


def _unanswered(error: httpx.HTTPError, session: Session) -> Exchange | None:
    """The request that got no answer (a failed SSO callback shows the URL it tried)."""
    try:
        request = error.request
    except RuntimeError:  # httpx raises this when the error carries no request
        return None
    return Exchange(
        method=request.method,
        url=session.redactor.text(str(request.url)),
        request_headers={},
        request_body="",
        status=0,
        response_headers={},
        response_body=session.redactor.text(f"no response: {type(error).__name__}: {error}"),
        elapsed_ms=0.0,
    )


async def run_check(session: Session, check: Check) -> CheckResult:
    session.begin()
    started = time.perf_counter()
    outcome, message, evidence = Outcome.PASS, "", None
    try:
        await check.run(session)
    except CheckFailed as failure:
        outcome, message, evidence = Outcome.FAIL, failure.message, failure.evidence
    except NotApplicable as skipped:
        outcome, message = Outcome.NOT_APPLICABLE, skipped.reason
    except httpx.HTTPError as error:
        outcome, evidence = Outcome.FAIL, _unanswered(error, session)
        asked = f" {evidence.method} {evidence.url}" if evidence else ""
        message = f"no answer to{asked}: {type(error).__name__}: {error}"
        evidence = evidence or (session.log[-1] if session.log else None)
    except Exception as error:
        where = traceback.extract_tb(error.__traceback__)[-1]
        message = (
            f"the check crashed: {type(error).__name__}: {error} ({where.name}:{where.lineno})"
        )
        outcome, evidence = Outcome.FAIL, session.log[-1] if session.log else None
    finally:
        await session.finish()
    message = session.redactor.text(message)
    return CheckResult(
        check,
        outcome,
        message,
        evidence,
        tuple(session.log),
        tuple(session.notes),
        time.perf_counter() - started,
    )


async def run_checks(
    target: Target,
    client: httpx.AsyncClient,
    *,
    areas: Iterable[Area] | None = None,
    ids: Iterable[str] | None = None,
    progress: Callable[[CheckResult], None] | None = None,
    profile: str = "platform",
) -> RunReport:
    """Run the checks of ``areas`` (or exactly ``ids``) in ``profile`` against ``target``
    through ``client``."""
    chosen = all_checks(areas, profile=profile)
    if ids is not None:
        wanted = set(ids)
        chosen = [c for c in chosen if c.id in wanted]
    session = Session(target, client)
    report = RunReport(target=target.describe(), profile=profile)
    for check in chosen:
        result = await run_check(session, check)
        report.results.append(result)
        if progress is not None:
            progress(result)
    report.finished_at = datetime.now(UTC)
    if (
        session.client_secret != target.client_secret
        and session.client_id
        and session.client_secret
    ):
        report.rotated_credentials = (session.client_id, session.client_secret)
    return report
