"""Checking a run: each expectation reads the record of exchanges or the server's state.

Server state is read back with GET through an engine without injected faults; those reads
are recorded under ``verify.*`` labels. Attributes are compared only where the target keeps
them (``Target.compare``); an expectation that ``requires`` attributes the target drops is
reported as not applicable rather than passed or failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from simulators.core import state_checks
from simulators.core.clock import parse_duration
from simulators.core.sentences import looked_for
from simulators.core.verdicts import ExpectationResult, result, show

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from simulators.core.recorder import Exchange
    from simulators.core.run_view import RunView
    from simulators.core.scenario import Expectation

__all__ = ["ExpectationResult", "evaluate", "no_server_errors"]

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
_COUNTERS = ("totalResults", "startIndex", "itemsPerPage")


def _select(run: RunView, a: dict[str, Any]) -> list[Exchange]:
    subject = a.get("subject") or (f"user:{a['person']}" if "person" in a else None)
    found = run.recorder.select(
        label=a.get("label"),
        method=a.get("method"),
        step=a.get("step"),
        subject=subject,
        path=a.get("path"),
    )
    label = str(a.get("label", ""))
    return [x for x in found if label.startswith("verify") or not x.label.startswith("verify")]


def _check_body(x: Exchange, a: dict[str, Any]) -> str | None:
    body = x.response_body if isinstance(x.response_body, dict) else {}
    if "content_type" in a and a["content_type"] not in x.content_type:
        return f"{show(x)}: content type {x.content_type!r}"
    if "total_results" in a and (
        body.get("totalResults") != a["total_results"] or type(body.get("totalResults")) is not int
    ):
        return (
            f"{show(x)}: totalResults {body.get('totalResults')!r}, expected {a['total_results']}"
        )
    if "resources" in a and len(body.get("Resources") or []) != a["resources"]:
        return f"{show(x)}: {len(body.get('Resources') or [])} resources, expected {a['resources']}"
    if a.get("has_id") and not body.get("id"):
        return f"{show(x)}: no id in the response body"
    if a.get("scim_error") and (
        ERROR_SCHEMA not in (body.get("schemas") or []) or not isinstance(body.get("status"), str)
    ):
        return f"{show(x)}: not a SCIM Error body (schemas, status as a string)"
    if "scim_type" in a and body.get("scimType") != a["scim_type"]:
        return f"{show(x)}: scimType {body.get('scimType')!r}, expected {a['scim_type']!r}"
    if "first_active" in a:
        first = (body.get("Resources") or [{}])[0]
        if first.get("active") is not a["first_active"]:
            return f"{show(x)}: first resource active={first.get('active')!r}"
    if a.get("integer_counters"):
        # A cursor page (RFC 9865) has no startIndex.
        cursor_page = "cursor" in parse_qs(urlsplit(x.url).query, keep_blank_values=True)
        keys = ("totalResults", "itemsPerPage") if cursor_page else _COUNTERS
        for key in keys:
            if type(body.get(key)) is not int:
                return f"{show(x)}: {key} is {body.get(key)!r}, not an integer"
    return None


def _seen_instead(run: RunView, a: dict[str, Any]) -> str:
    """What the same step (or the whole run) sent instead, when nothing matched."""
    scope = run.recorder.select(step=a.get("step")) if a.get("step") else run.recorder.exchanges
    labels: dict[str, int] = {}
    for x in scope:
        if not x.label.startswith("verify"):
            labels[x.label] = labels.get(x.label, 0) + 1
    where = f"step {a['step']}" if a.get("step") else "the run"
    if not labels:
        return f"{where} sent nothing"
    return f"{where} sent " + ", ".join(f"{n} {label}" for label, n in labels.items())


def _matched(found: list[Exchange]) -> str:
    shown = "; ".join(show(x) for x in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return f"matched {shown}{more}" if found else "matched nothing, as expected"


#: Answers that ask the client to come back later (with ``Retry-After``); the IdPs send the
#: same request again (Entra: 429 and 503, Okta: 429).
THROTTLED = frozenset({429, 503})


def _retried_throttles(found: list[Exchange]) -> set[int]:
    """The ``seq`` of each throttled answer that the client honoured by sending the same
    request again: the request's outcome is its next attempt's, not this one."""
    attempts = {(x.cycle, x.subject, x.label, x.attempt): x.seq for x in found}
    return {
        x.seq
        for x in found
        if x.status in THROTTLED
        and attempts.get((x.cycle, x.subject, x.label, x.attempt + 1), -1) > x.seq
    }


def _sent_twice(counted: list[Exchange]) -> list[str]:
    """``once_each``: the objects that the counted exchanges name more than once."""
    sent: dict[str | None, list[Exchange]] = {}
    for x in counted:
        sent.setdefault(x.subject, []).append(x)
    return [
        f"{subject or 'no object'} sent {len(xs)} times: " + "; ".join(show(x) for x in xs[:3])
        for subject, xs in sent.items()
        if len(xs) > 1
    ]


async def _responses(e: Expectation, run: RunView) -> ExpectationResult:
    a, found = e.args, _select(run, e.args)
    problems = []
    # A request is counted, and judged, once, by its last attempt: a throttled attempt the
    # client sent again counts for nothing, so a server that throttles on its own (on top of
    # any injected 429) neither adds to ``count`` nor fails ``once_each``.
    retried = _retried_throttles(found)
    counted = [x for x in found if x.seq not in retried]
    if a.get("once_each"):
        problems += _sent_twice(counted)
    low = 0 if a.get("max_count") == 0 else a.get("min_count", 1)
    what = "matching exchanges" + (" (throttled attempts sent again left out)," if retried else ",")
    if "count" in a and len(counted) != a["count"]:
        problems.append(f"{len(counted)} {what} expected {a['count']}")
    if "count" not in a and len(counted) < low:
        problems.append(f"{len(counted)} {what} expected at least {low}")
    if "max_count" in a and len(counted) > a["max_count"]:
        problems.append(
            f"{len(counted)} {what} at most {a['max_count']} expected: " + show(counted[-1])
        )
    for x in found:
        if x.seq in retried:
            continue  # judged by its retry, body and status alike
        if "status" in a and x.status not in a["status"]:
            problems.append(f"{show(x)} (expected {a['status']})")
        elif (x.status is not None and 200 <= x.status < 300) or a.get("check_errors"):
            problem = _check_body(x, a)
            if problem:
                problems.append(problem)
    if "any_status" in a and not any(x.status in a["any_status"] for x in found):
        problems.append(f"no matching exchange answered {a['any_status']}")
    if problems and not found:
        problems.append(f"looked for {looked_for(a)}; {_seen_instead(run, a)}")
    return result(e, problems, _matched(found))


async def _no_requests(e: Expectation, run: RunView) -> ExpectationResult:
    found = _select(run, e.args)
    problems = [f"unexpected: {show(x)}" for x in found]
    if problems:
        problems.insert(0, f"looked for no {looked_for(e.args).removeprefix('the ')}")
    return result(e, problems, _matched(found))


async def _quarantine(e: Expectation, run: RunView) -> ExpectationResult:
    a, log = e.args, run.sync.quarantines
    problems = []
    if "entered" in a and bool(log) != a["entered"]:
        problems.append(f"quarantine entered: {bool(log)}, expected {a['entered']}")
    if log:
        q = log[0]
        if "exited" in a and (q.exited_at is not None) != a["exited"]:
            problems.append(f"quarantine exited: {q.exited_at is not None}, expected {a['exited']}")
        offsets, last = [], q.since
        for at in q.retries:
            offsets.append(at - last)
            last = at
        want = [parse_duration(x) for x in a.get("retry_offsets", [])]
        close = len(offsets) >= len(want) and all(
            abs(got - w) <= max(1.0, w / 1000) for got, w in zip(offsets, want, strict=False)
        )  # a real clock adds the run's own seconds
        if not close:
            problems.append(f"retries came after {offsets} s, expected {want} s")
        if "reason" in a and a["reason"] not in q.reason:
            problems.append(f"reason {q.reason!r}")
    return result(e, problems, f"{len(log)} quarantine(s)")


async def _waits(e: Expectation, run: RunView) -> ExpectationResult:
    floor = parse_duration(e.args.get("min", 0))
    long_enough = [w for w in run.sync.engine.waits if w >= floor]
    need = int(e.args.get("count", 1))
    waits = run.sync.engine.waits
    problem = f"{len(long_enough)} waits of at least {floor:g}s (all: {waits}), expected {need}"
    return result(e, [] if len(long_enough) >= need else [problem])


async def _failures(e: Expectation, run: RunView) -> ExpectationResult:
    a, sync = e.args, run.sync
    if a.get("none"):
        outstanding = list(sync.escrow) + list(sync.tasks)
        return result(e, [f"outstanding failures: {outstanding}"] if outstanding else [])
    key = f"user:{a['person']}" if "person" in a else f"group:{a['group']}"
    policy = a.get("policy", "any")
    failure = (sync.escrow.get(key) if policy in ("escrow", "any") else None) or (
        sync.tasks.get(key) if policy in ("task", "any") else None
    )
    if failure is None:
        return result(e, [f"{key} has no {policy} failure"])
    problems = []
    if "status" in a and failure.status != a["status"]:
        problems.append(f"{key} failed with {failure.status}, expected {a['status']}")
    if failure.attempts < a.get("min_attempts", 1):
        problems.append(f"{key} attempted {failure.attempts} times")
    return result(e, problems, failure.detail)


async def _connection(e: Expectation, run: RunView) -> ExpectationResult:
    if not run.connections:
        return result(e, ["no connection test was run"])
    report, problems = run.connections[-1], []
    if "ok" in e.args and report.ok != e.args["ok"]:
        problems.append("; ".join(o.describe() for o in report.outcomes) or "no probe")
    if "quarantine_worthy" in e.args and report.quarantine_worthy != e.args["quarantine_worthy"]:
        problems.append(f"quarantine-worthy: {report.quarantine_worthy}")
    return result(e, problems)


async def _pages(e: Expectation, run: RunView) -> ExpectationResult:
    pages = _select(run, {"label": e.args.get("label", "import.page")})
    problems, seen, totals = [], [], set()
    for x in pages:
        problem = _check_body(x, {"integer_counters": True})
        if x.status != 200 or problem:
            problems.append(problem or show(x))
            continue
        body = x.response_body
        totals.add(body["totalResults"])
        seen += [str(r.get("id")) for r in body.get("Resources") or []]
    if len(totals) > 1:
        problems.append(f"totalResults changed between pages: {sorted(totals)}")
    if len(seen) != len(set(seen)):
        problems.append(f"{len(seen) - len(set(seen))} duplicate ids across pages")
    if totals and len(seen) != min(totals):
        problems.append(f"{len(seen)} users over {len(pages)} pages, totalResults {min(totals)}")
    floor = e.args.get("min_total", 0)
    floor = len(run.seeded) if floor == "seeded" else int(floor)
    if totals and min(totals) < floor:
        problems.append(f"totalResults {min(totals)} < {floor}")
    if not pages:
        problems.append("no pages were requested")
    return result(e, problems, f"{len(pages)} pages, {len(seen)} users")


async def _timeouts(e: Expectation, run: RunView) -> ExpectationResult:
    found = [x for x in _select(run, e.args) if x.error and "timed out" in x.error]
    problems = []
    if len(found) != int(e.args.get("count", 1)):
        problems.append(f"{len(found)} timeouts, expected {e.args.get('count', 1)}")
    after = e.args.get("after")
    if after is not None and run.sync.base_dialect.timeout != parse_duration(after):
        problems.append(f"the timeout is {run.sync.base_dialect.timeout:g}s")
    return result(e, problems)


_HANDLERS: dict[str, Callable[[Expectation, RunView], Awaitable[ExpectationResult]]] = {
    "responses": _responses,
    "no_requests": _no_requests,
    "users_in_sync": state_checks.users_in_sync,
    "user": state_checks.user,
    "lookup": state_checks.lookup,
    "groups_in_sync": state_checks.groups_in_sync,
    "group": state_checks.group,
    "quarantine": _quarantine,
    "waits": _waits,
    "failures": _failures,
    "connection": _connection,
    "pages": _pages,
    "timeouts": _timeouts,
}


async def evaluate(e: Expectation, run: RunView) -> ExpectationResult:
    missing = [k for k in e.requires if k not in run.target.compare]
    if missing:
        detail = f"the target does not keep {', '.join(missing)}"
        return ExpectationResult(e.id, e.name, e.kind, "n/a", detail)
    try:
        return await _HANDLERS[e.kind](e, run)
    except (KeyError, ValueError, TypeError) as error:
        return result(e, [f"could not be checked: {type(error).__name__}: {error}"])


GATEWAY_STATUSES = frozenset({502, 503, 504})


def _retried_gateway_error(x: Exchange, exchanges: list[Exchange]) -> bool:
    """A balancer's own answer (no SCIM error body) that the IdP's later request about the
    same object got past (the run's own verification reads do not count)."""
    body = x.response_body if isinstance(x.response_body, dict) else {}
    if x.status not in GATEWAY_STATUSES or ERROR_SCHEMA in (body.get("schemas") or []):
        return False
    return x.subject is not None and any(
        later.seq > x.seq
        and later.subject == x.subject
        and not later.label.startswith("verify")
        and (later.status or 500) < 400
        for later in exchanges
    )


def no_server_errors(run: RunView) -> ExpectationResult:
    """A run passes only with no 5xx from the server (idp-behaviors §6 preamble).

    Behind a load balancer (``balancer = true``) a 502/503/504 the balancer wrote itself is
    left out when the IdP's retry of the same object succeeded.
    """
    exchanges = run.recorder.exchanges
    bad = [x for x in exchanges if not x.injected and (x.status or 0) >= 500]
    if run.scenario.balancer:
        bad = [x for x in bad if not _retried_gateway_error(x, exchanges)]
    # By object, not by arrival: with objects in flight together the transcript's order (and
    # so which five come first) depends on scheduling; the report should not.
    bad.sort(key=lambda x: (x.cycle or 0, x.subject or "", x.label, x.attempt, x.seq))
    e_id = f"{run.scenario.name}.no-5xx"
    if bad:
        return ExpectationResult(
            e_id,
            "no 5xx from the server",
            "responses",
            "failed",
            "; ".join(show(x) for x in bad[:5]),
        )
    return ExpectationResult(e_id, "no 5xx from the server", "responses", "passed")
