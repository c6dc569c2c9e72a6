"""Sync cycles: which objects a cycle touches, and what happens when some of them fail.

* The first cycle is *initial* (every object in scope); later ones are *incremental* (what
  changed since the watermark, plus escrowed objects and delays that came due); a *full*
  cycle re-reads every linked user from the target and pushes any drift.
* A failed object is escrowed and retried on later cycles (Entra; Google by assumption; the
  growing gap Entra leaves between escrow retries is not modelled: every cycle retries), or
  becomes a failed task that only an admin retries (Okta) — the dialect's failure policy.
* A cycle that fails as a whole (every object refused on credentials, or a filter miss
  answered 404/400) puts a quarantine-capable dialect into quarantine: the next attempts come
  at the policy's backoff steps, the first clean cycle leaves it, and after the give-up time
  the job stops (idp-behaviors §1.7).
* Inside a cycle, users, then groups, then manager links each run on up to
  ``dialect.concurrency`` workers (``workers.bounded``); one object's requests stay in order,
  and failures, escrow and delays are kept in object order, so a report does not depend on
  which worker finished first.
"""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING

from simulators.core import builders
from simulators.core.dialect import FailurePolicy
from simulators.core.objects import ObjectFailed, ObjectSync
from simulators.core.records import ConnectionReport, CycleReport, Failure, Quarantine
from simulators.core.workers import bounded, in_order, split_at

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from simulators.core.dialect import Dialect
    from simulators.core.directory import Directory
    from simulators.core.engine import Engine, Outcome

__all__ = ["ConnectionReport", "CycleReport", "Failure", "Quarantine", "SyncEngine"]

ESCROW_MIN_FAILURES, ESCROW_RATIO, ESCROW_MAX = 5000, 0.4, 40000


class SyncEngine:
    def __init__(
        self, engine: Engine, directory: Directory, dialect: Dialect | None = None
    ) -> None:
        self.engine = engine
        self.directory = directory
        self.base_dialect = dialect or engine.dialect
        self.objects = ObjectSync(engine, directory, self.base_dialect)
        self.escrow: dict[str, Failure] = {}
        self.tasks: dict[str, Failure] = {}
        self.deferred: dict[str, float] = {}
        self.watermark = 0
        self.cycles: list[CycleReport] = []
        self.quarantine: Quarantine | None = None
        self.quarantines: list[Quarantine] = []
        self.last_finished: float | None = None

    @property
    def dialect(self) -> Dialect:
        return self.objects.dialect

    def set_dialect(self, dialect: Dialect) -> None:
        self.base_dialect = dialect
        self.objects.dialect = dialect
        self.engine.dialect = dialect

    async def test_connection(self, guid: str | None = None) -> ConnectionReport:
        requests = builders.connection_test(self.dialect, guid or str(uuid.uuid4()))
        return ConnectionReport([await self.engine.send(r) for r in requests])

    # what to touch -----------------------------------------------------------------------
    def _pending(self, full: bool) -> list[str]:
        now = self.engine.clock.now()
        if not self.cycles or full:
            keys = self.directory.all_keys()
        else:
            keys = self.directory.changed_since(self.watermark)
        keys += [k for k in self.escrow if k not in keys]
        keys += [k for k, due in self.deferred.items() if due <= now and k not in keys]
        return keys

    def has_work(self, at: float) -> bool:
        return bool(
            self.quarantine is not None
            or self.escrow
            or self.directory.changed_since(self.watermark)
            or any(due <= at for due in self.deferred.values())
        )

    def next_due(self) -> float:
        if self.quarantine is not None:
            return float("inf") if self.quarantine.disabled else self.quarantine.next_run
        if self.last_finished is None:
            return self.engine.clock.now()
        return self.last_finished + self.dialect.cycle_interval

    def retry_tasks(self) -> list[str]:
        """An admin's "retry failed tasks" (Okta): the objects go back into the next cycle."""
        keys = list(self.tasks)
        for key in keys:
            self.escrow[key] = self.tasks.pop(key)
        return keys

    # a cycle -----------------------------------------------------------------------------
    async def run_cycle(
        self,
        *,
        full: bool = False,
        on_demand: bool = False,
        rotate_after: int | None = None,
        on_rotate: Callable[[], Awaitable[None]] | None = None,
        on_object: Callable[[int, int], None] | None = None,
    ) -> CycleReport:
        clock = self.engine.clock
        kind = "initial" if not self.cycles else "full" if full else "incremental"
        if on_demand:
            kind = "on-demand"
        report = CycleReport(len(self.cycles) + 1, kind, clock.now())
        if self.quarantine is not None and self.quarantine.disabled:
            report.quarantine_reason = "the job was stopped after a long quarantine"
            self.cycles.append(report)
            return report
        keys = self._pending(full)
        self.watermark = self.directory.version
        self.engine.recorder.cycle = report.number
        if on_demand:
            self.objects.dialect = self.engine.dialect = self.base_dialect.for_on_demand()
        users = [k for k in keys if k.startswith("user:")]
        groups = [k for k in keys if k.startswith("group:")]
        total, limit = len(users) + len(groups), max(self.dialect.concurrency, 1)

        async def one(key: str) -> None:
            await self._one(key, report, full=full)
            report.processed += 1
            if on_object:
                on_object(report.processed, total)

        async def manager(key: str) -> None:
            person = self.directory.people.get(key.split(":", 1)[1])
            if person is not None and key not in report.failures:
                await self._guarded(key, report, self.objects.link_manager(person))

        try:
            # Groups wait for every user (their members need the users' ids) and managers for
            # every user too (both ends must exist, §1.3); inside a phase objects run in
            # parallel, each object's own requests in order.
            done, rotate = 0, rotate_after if on_rotate else None
            for phase in (users, groups):
                for part in split_at(phase, done, rotate):
                    if on_rotate and done == rotate:
                        rotate = None  # once, before the object at that position
                        await on_rotate()
                    await bounded(part, limit, one)
                    done += len(part)
            await bounded(users, limit, manager)
        finally:
            self.objects.dialect = self.engine.dialect = self.base_dialect
            self.engine.recorder.cycle = None
        self._settle_order(users + groups, report)
        report.finished = clock.now()
        self._after_cycle(report)
        self.cycles.append(report)
        self.last_finished = report.finished
        return report

    def _settle_order(self, order: list[str], report: CycleReport) -> None:
        """Failures, escrow and delays in object order, not the order workers finished in,
        so a report reads the same at any concurrency."""
        rank = {key: index for index, key in enumerate(order)}
        report.failures = in_order(report.failures, rank)
        self.escrow, self.tasks = in_order(self.escrow, rank), in_order(self.tasks, rank)
        self.deferred = in_order(self.deferred, rank)

    async def _one(self, key: str, report: CycleReport, *, full: bool) -> None:
        kind, name = key.split(":", 1)
        self.deferred.pop(key, None)
        if kind == "user":
            person = self.directory.people.get(name)
            if person is None:
                return
            due = await self._guarded(key, report, self.objects.sync_user(person, full=full))
            if due is not None:
                self.deferred[key] = due
        elif name in self.directory.groups:
            await self._guarded(key, report, self.objects.sync_group(name))

    async def _guarded(
        self, key: str, report: CycleReport, work: Awaitable[float | None]
    ) -> float | None:
        try:
            result = await work
        except ObjectFailed as failed:
            report.failures[key] = self.record_failure(key, failed.outcome, str(failed))
            return None
        self.escrow.pop(key, None)
        self.tasks.pop(key, None)
        return result

    def record_failure(self, key: str, outcome: Outcome | None, detail: str) -> Failure:
        """Escrow the object, or file a failed task, as the dialect's failure policy says."""
        previous = self.escrow.get(key) or self.tasks.get(key)
        failure = Failure(
            key,
            detail,
            outcome.status if outcome else None,
            self.engine.clock.now(),
            attempts=(previous.attempts + 1) if previous else 1,
            auth=bool(outcome and outcome.auth_failed),
            compliance=bool(
                outcome
                and outcome.request.label.endswith(".lookup")
                and outcome.status in (400, 404)
                and outcome.status not in self.dialect.lookup_miss_statuses
            ),
        )
        if self.dialect.failure_policy is FailurePolicy.TASK:
            self.tasks[key] = failure
            self.escrow.pop(key, None)
        else:
            self.escrow[key] = failure
        return failure

    def _after_cycle(self, report: CycleReport) -> None:
        policy, now = self.dialect.quarantine, report.finished
        failures = list(report.failures.values())
        reason = None
        if any(f.compliance for f in failures):
            reason = "SCIM compliance: a filter that matches nothing was not answered 200"
        elif (
            failures
            and report.processed
            and all(f.auth for f in failures)
            and (len(failures) == report.processed)
        ):
            reason = "EncounteredQuarantineException: the credentials were refused"
        elif len(failures) >= ESCROW_MIN_FAILURES and (
            len(failures) > ESCROW_RATIO * report.processed or len(failures) > ESCROW_MAX
        ):
            reason = "EncounteredEscrowProportionThreshold"
        report.quarantine_reason = reason
        if policy is None:
            return
        q = self.quarantine
        if reason is None:
            if q is not None:
                q.exited_at = now
                self.quarantine = None
            return
        if q is None:
            self.quarantine = Quarantine(since=now, reason=reason, next_run=now + policy.delay(0))
            self.quarantines.append(self.quarantine)
            return
        q.failed_retries += 1
        q.next_run = now + policy.delay(q.failed_retries)
        if now - q.since >= policy.give_up_after:
            q.disabled = True

    def _skip_idle(self, due: float, end: float) -> float:
        """The first cycle slot at which a delay comes due (idle cycles send nothing)."""
        upcoming = [d for d in self.deferred.values() if d <= end]
        if not upcoming:
            return float("inf")
        interval = self.dialect.cycle_interval
        return due + max(0, math.ceil((min(upcoming) - due) / interval)) * interval

    async def run_schedule(
        self, duration: float, *, on_cycle: Callable[[CycleReport], None] | None = None
    ) -> list[CycleReport]:
        """Let the IdP run on its own for ``duration``: cycles when due, time jumped between."""
        clock = self.engine.clock
        end, ran = clock.now() + duration, []
        while True:
            due = max(self.next_due(), clock.now())
            if due <= end and not self.has_work(due):
                due = self._skip_idle(due, end)
            if due > end:
                break
            clock.advance(due - clock.now())
            if self.quarantine is not None:
                self.quarantine.retries.append(clock.now())
            report = await self.run_cycle()
            ran.append(report)
            if on_cycle:
                on_cycle(report)
        clock.advance(max(end - clock.now(), 0.0))
        return ran
