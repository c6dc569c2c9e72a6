"""Expectations that read the server's state back with GET (users, lookups, groups)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulators.core import builders
from simulators.core.mapping import mismatches
from simulators.core.objects import Disposition, disposition
from simulators.core.verdicts import result
from simulators.core.workers import bounded

if TYPE_CHECKING:
    from simulators.core.directory import Person
    from simulators.core.run_view import RunView
    from simulators.core.scenario import Expectation
    from simulators.core.verdicts import ExpectationResult

__all__ = ["group", "groups_in_sync", "lookup", "user", "users_in_sync"]


def _expected_user(run: RunView, person: Person) -> tuple[bool, dict[str, Any]] | None:
    """(present?, expected values) as the IdP intends, or None when nothing is expected."""
    dialect = run.sync.base_dialect
    link = run.sync.objects.users.get(person.key)
    state, _ = disposition(dialect, person, run.clock.now())
    if link is None:
        return None
    if link.deleted or state is Disposition.ABSENT:
        return (False, {}) if link.managed else None
    values = dict(run.sync.objects.desired(person, dialect))
    manager = run.sync.objects.server_id(person.manager) if person.manager else None
    if manager is not None and "manager" in dialect.user_attributes:
        values["manager"] = manager
    if state is Disposition.KEEP or not link.managed:
        values["active"] = link.active
    else:
        values["active"] = state is Disposition.ACTIVE
    return True, values


def _limit(run: RunView) -> int:
    """Reads in flight while checking: the run's own concurrency (1 keeps a run sequential
    end to end). Problems come back in directory order whatever order the reads finish in."""
    return run.sync.base_dialect.concurrency


async def _get(
    run: RunView, path: str, subject: str | None = None
) -> tuple[int | None, dict[str, Any]]:
    request = builders.ScimRequest(
        "GET", path, "verify.get", subject=subject, ok=frozenset({200, 404})
    )
    outcome = await run.verify.send(request)
    return outcome.status, outcome.body if isinstance(outcome.body, dict) else {}


async def _check_person(run: RunView, person: Person, keys: frozenset[str]) -> list[str]:
    expected = _expected_user(run, person)
    link = run.sync.objects.users.get(person.key)
    if expected is None or link is None:
        state, _ = disposition(run.sync.base_dialect, person, run.clock.now())
        if state is Disposition.ACTIVE and not person.archived:
            return [f"{person.key}: never provisioned"]
        return []
    present, values = expected
    status, body = await _get(run, f"/Users/{link.server_id}", f"user:{person.key}")
    if not present:
        return [] if status == 404 else [f"{person.key}: GET answered {status}, expected 404"]
    if status != 200:
        return [f"{person.key}: GET answered {status}"]
    wrong = mismatches(
        values, body, (set(run.sync.base_dialect.user_attributes) | {"active"}) & keys
    )
    return [f"{person.key}.{k}: expected {w!r}, server has {g!r}" for k, (w, g) in wrong.items()]


async def users_in_sync(e: Expectation, run: RunView) -> ExpectationResult:
    keys = e.args.get("people") or list(run.directory.people)
    found = await bounded(
        keys,
        _limit(run),
        lambda key: _check_person(run, run.directory.person(key), run.target.compare),
    )
    return result(e, [p for each in found for p in each], f"{len(keys)} people checked")


async def user(e: Expectation, run: RunView) -> ExpectationResult:
    a = e.args
    person = run.directory.person(a["person"])
    link = run.sync.objects.users.get(person.key)
    if link is None:
        return result(e, [f"{person.key} was never provisioned"])
    status, body = await _get(run, f"/Users/{link.server_id}", f"user:{person.key}")
    if not a.get("present", True):
        return result(e, [] if status == 404 else [f"GET answered {status}, expected 404"])
    if status != 200:
        return result(e, [f"GET answered {status}"])
    problems = [] if "attributes" in a else await _check_person(run, person, run.target.compare)
    wanted = dict(a.get("attributes", {}))
    for k, v in wanted.items():
        if isinstance(v, str) and v.startswith("{user:"):
            wanted[k] = run.sync.objects.server_id(v[6:-1])
    if "active" in a:
        wanted["active"] = a["active"]
    keys = [
        k
        for k in wanted
        if k in run.target.compare or k not in run.sync.base_dialect.user_attributes
    ]
    problems += [
        f"{k}: expected {w!r}, server has {g!r}"
        for k, (w, g) in mismatches(wanted, body, keys).items()
    ]
    problems += [
        f"the resource has a literal {k!r} key" for k in a.get("absent_keys", []) if k in body
    ]
    return result(e, problems)


async def lookup(e: Expectation, run: RunView) -> ExpectationResult:
    a = e.args
    value = a.get("value") or run.directory.person(a["person"]).user_name
    value = value.upper() if a.get("upper") else value
    request = builders.lookup_user(
        run.verify.dialect, a.get("attribute", "userName"), value, label="verify.lookup"
    )
    outcome = await run.verify.send(request)
    body = outcome.body if isinstance(outcome.body, dict) else {}
    problems = []
    if outcome.status != 200 or body.get("totalResults") != a.get("count", 1):
        attribute, count = a.get("attribute", "userName"), a.get("count", 1)
        got = body.get("totalResults")
        problems.append(f"{attribute} eq {value!r}: {outcome.status}, {got!r} results, not {count}")
    elif (
        "active" in a
        and outcome.resources
        and outcome.resources[0].get("active") is not a["active"]
    ):
        problems.append(
            f"active is {outcome.resources[0].get('active')!r}, expected {a['active']!r}"
        )
    return result(e, problems)


async def _check_group(run: RunView, key: str, members: list[str] | None) -> list[str]:
    group, link = run.directory.group(key), run.sync.objects.groups.get(key)
    if group.deleted:
        gone = link is None
        return [] if gone or not run.sync.base_dialect.delete_groups else [f"{key}: still linked"]
    if link is None:
        return [f"{key}: never provisioned"] if run.sync.base_dialect.push_groups else []
    status, body = await _get(run, f"/Groups/{link.server_id}", f"group:{key}")
    if status != 200:
        return [f"{key}: GET /Groups/{{id}} answered {status}"]
    wanted_keys = members if members is not None else sorted(group.members)
    wanted = {run.sync.objects.server_id(m) for m in wanted_keys} - {None}
    got = {str(m.get("value")) for m in body.get("members") or [] if isinstance(m, dict)}
    problems = []
    if got != wanted:
        problems.append(f"{key}: members {sorted(got)}, expected {sorted(str(w) for w in wanted)}")
    if body.get("displayName") != group.name:
        problems.append(f"{key}: displayName {body.get('displayName')!r}, expected {group.name!r}")
    return problems


async def groups_in_sync(e: Expectation, run: RunView) -> ExpectationResult:
    keys = e.args.get("groups") or list(run.directory.groups)
    found = await bounded(keys, _limit(run), lambda key: _check_group(run, key, None))
    return result(e, [p for each in found for p in each])


async def group(e: Expectation, run: RunView) -> ExpectationResult:
    members = e.args.get("members")
    return result(e, await _check_group(run, e.args["group"], members))
