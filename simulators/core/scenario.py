"""Scenarios: steps to play and expectations to check, from Python or from a TOML file.

A scenario file is plain TOML, so QA can write one without Python::

    name = "night-shift-onboarding"
    title = "Onboard the night shift, then one leaver"
    idps = ["entra", "okta"]          # which simulators may run it (empty: all)
    users = 12                        # default size of add_people / seed_users (--users)
    balancer = false                  # true: the balancer's own 502/503/504 may be retried

    [[steps]]
    do = "add_people"

    [[steps]]
    do = "cycle"

    [[steps]]
    do = "disable"
    key = "user3"

    [[steps]]
    do = "cycle"
    id = "leaver"

    [[expect]]
    id = "created"
    kind = "responses"
    label = "user.create"
    status = [201]

    [[expect]]
    kind = "users_in_sync"

``simulate list`` prints every built-in scenario; STEP_KINDS and EXPECTATION_KINDS below say
what each step and expectation accepts. ``simulators/scenarios/README.md`` documents the format
for people, with commented examples in ``simulators/scenarios/examples/``. An error in a file
names its line (the ``[[steps]]`` or ``[[expect]]`` table at fault) and what was expected there.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from simulators.core.sentences import default_name

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "EXPECTATION_KINDS",
    "STEP_KINDS",
    "Expectation",
    "Scenario",
    "ScenarioError",
    "Step",
    "expect",
    "isolate",
    "load_scenario",
    "responses",
    "scenario",
    "step",
]

_KEY = ("key",)
STEP_KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "test_connection": ((), "the IdP's connection test"),
    "add_people": ((), "N generated people (count or --users, min_count, prefix)"),
    "add_person": (_KEY, "one person (key, user_name and any Person field)"),
    "update_person": (("key", "set"), "change attributes of a person"),
    "disable": (_KEY, "disable / suspend a person"),
    "enable": (_KEY, "re-enable / restore a person"),
    "soft_delete": (_KEY, "delete a person at the IdP (Entra: recycle bin)"),
    "purge": (_KEY, "hard-delete a person at the IdP"),
    "unassign": (_KEY, "unassign a person from the app"),
    "assign": (_KEY, "assign a person to the app again"),
    "archive": (_KEY, "archive a person (Google)"),
    "add_group": (("key", "name"), "a group (members)"),
    "change_members": (_KEY, "add / remove group members (add, remove)"),
    "rename_group": (("key", "name"), "rename a group"),
    "delete_group": (_KEY, "delete a group"),
    "cycle": ((), "one sync cycle (full, on_demand, rotate_after)"),
    "schedule": (("duration",), "let the IdP run on its schedule for a while"),
    "wait": (("duration",), "let time pass with no cycle"),
    "rotate_credentials": ((), "new secret/token on the server (tell_idp = true|false)"),
    "update_credentials": ((), "give the IdP the latest secret/token"),
    "retry_tasks": ((), "an admin retries failed tasks (Okta)"),
    "seed_users": ((), "create N users directly on the server (count, prefix)"),
    "seed_user": (("user_name",), "create one user directly on the server"),
    "send": (("builder",), "send one built request (person, group, label, user_name)"),
    "import_users": ((), "page through GET /Users (page_size)"),
    "sso_login": (("person",), "resolve a login identifier with a filter (protocol)"),
    "sso_sign_in": (("person",), "sign in at scimlab through a simulated IdP (protocol)"),
    "request": (
        ("method", "path"),
        "a raw request (query, body or json, label, ok, save_id; {ref:NAME} in path/query/body)",
    ),
    "fault": ((), "inject server faults (status, retry_after, stall, label, method, …)"),
    "clear_faults": ((), "stop injecting faults"),
    "dialect": (("set",), "change dialect knobs from now on"),
}

EXPECTATION_KINDS: dict[str, str] = {
    "responses": "matching exchanges have these statuses / counts / body properties",
    "no_requests": "no exchange matches",
    "users_in_sync": "every person reads back as the IdP intends (GET)",
    "user": "one person reads back as given (present, active, attributes, absent_keys)",
    "lookup": "a userName/externalId filter returns count results",
    "groups_in_sync": "every group reads back with the IdP's members",
    "group": "one group reads back with these members",
    "quarantine": "quarantine entered / exited / retry offsets",
    "waits": "the engine waited (Retry-After) at least min, count times",
    "failures": "an object failed (escrow or task) with this status",
    "connection": "the connection test passed / was quarantine-worthy",
    "pages": "paged import: integer counters, stable totals, no duplicates",
    "timeouts": "requests were aborted by the per-request timeout",
}


class ScenarioError(ValueError):
    """A scenario that cannot be played; ``table`` (``steps`` or ``expect``) and ``index``
    (1-based) say where, so a file's error can name its line."""

    def __init__(self, message: str, table: str | None = None, index: int | None = None):
        super().__init__(message)
        self.table, self.index = table, index


@dataclass(frozen=True)
class Step:
    do: str
    args: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Expectation:
    id: str
    kind: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    at: str | None = None
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    steps: tuple[Step, ...]
    expectations: tuple[Expectation, ...]
    idps: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    users: int = 5
    auth: tuple[str, ...] = ()
    #: Uses scimlab's management API (a secret rotation, or real sign-ins for which it points
    #: the practice's SSO at a simulated IdP).
    needs_rotator: bool = False
    #: Regenerates the practice's client secret: destructive, played only when asked.
    rotates_secret: bool = False
    #: The target sits behind a load balancer: a 502, 503 or 504 that the balancer wrote (no
    #: SCIM error body) is not held against the server when a later request about the same
    #: object succeeded, as a host dying mid-request leaves the IdP to retry.
    balancer: bool = False
    source: str = "built-in"

    def supports(self, idp: str) -> bool:
        return not self.idps or idp in self.idps

    @classmethod
    def from_dict(cls, raw: dict[str, Any], *, source: str = "built-in") -> Scenario:
        where = f"scenario {raw.get('name', '?')!r} ({source})"
        for required in ("name", "steps"):
            if required not in raw:
                msg = f"{where}: missing {required!r} (expected at least one [[steps]] table)"
                raise ScenarioError(msg if required == "steps" else f"{where}: missing 'name'")
        steps = tuple(_step(s, i, where) for i, s in enumerate(raw["steps"], 1))
        ids = {s.id for s in steps if s.id}
        expectations = []
        for i, e in enumerate(raw.get("expect", []), 1):
            expectation = _expectation(e, i, raw["name"], where)
            if expectation.at is not None and expectation.at not in ids:
                known = ", ".join(sorted(i for i in ids if i)) or "none: give a step an id"
                msg = (
                    f"{where}: expectation {expectation.id} is 'at' unknown step "
                    f"{expectation.at!r} (expected a step id: {known})"
                )
                raise ScenarioError(msg, "expect", i)
            expectations.append(expectation)
        rotates = any(s.do == "rotate_credentials" or "rotate_after" in s.args for s in steps)
        needs = rotates or any(s.do == "sso_sign_in" for s in steps)
        return cls(
            name=str(raw["name"]),
            title=str(raw.get("title", raw["name"])),
            steps=steps,
            expectations=tuple(expectations),
            idps=tuple(raw.get("idps", ())),
            variants=tuple(raw.get("variants", ())),
            users=int(raw.get("users", 5)),
            auth=tuple(raw.get("auth", ())),
            balancer=_flag(raw, "balancer", where),
            needs_rotator=needs,
            rotates_secret=rotates,
            source=source,
        )


def _flag(raw: dict[str, Any], key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise ScenarioError(f"{where}: {key!r} is {value!r} (expected true or false)")
    return value


def _step(raw: dict[str, Any], index: int, where: str) -> Step:
    data = dict(raw)
    kind = data.pop("do", None)
    if kind not in STEP_KINDS:
        msg = (
            f"{where}: step {index} has unknown do={kind!r} "
            f"(expected one of: {', '.join(STEP_KINDS)})"
        )
        raise ScenarioError(msg, "steps", index)
    missing = [a for a in STEP_KINDS[kind][0] if a not in data]
    if missing:
        msg = f"{where}: step {index} ({kind}) needs {missing} ({STEP_KINDS[kind][1]})"
        raise ScenarioError(msg, "steps", index)
    step_id = data.pop("id", None)
    return Step(kind, data, str(step_id) if step_id is not None else None)


def _sentence(kind: str, args: dict[str, Any]) -> str | None:
    return default_name(kind, args)


def _expectation(raw: dict[str, Any], index: int, scenario: str, where: str) -> Expectation:
    data = dict(raw)
    kind = data.pop("kind", None)
    if kind not in EXPECTATION_KINDS:
        msg = (
            f"{where}: expectation {index} has unknown kind={kind!r} "
            f"(expected one of: {', '.join(EXPECTATION_KINDS)})"
        )
        raise ScenarioError(msg, "expect", index)
    ident = str(data.pop("id", f"{kind}-{index}"))
    name = str(data.pop("name", "") or _sentence(kind, data) or EXPECTATION_KINDS[kind])
    at = data.pop("at", None)
    requires = tuple(data.pop("requires", ()))
    return Expectation(f"{scenario}.{ident}", kind, name, data, at, requires)


_DOMAIN = re.compile(r"@([A-Za-z0-9-]+)((?:\.[A-Za-z0-9-]+)+)")


def _tagged(value: Any, tag: str, *, group_name: bool = False) -> Any:
    if isinstance(value, str):
        if group_name:
            return f"{value} {tag}"

        def swap(match: re.Match[str]) -> str:
            label, rest = match.groups()
            mark = tag.upper() if label.isupper() else tag
            return f"@{label}-{mark}{rest}"

        return _DOMAIN.sub(swap, value)
    if isinstance(value, list):
        return [_tagged(v, tag) for v in value]
    if isinstance(value, dict):
        return {k: _tagged(v, tag) for k, v in value.items()}
    return value


def isolate(scenario: Scenario, tag: str) -> Scenario:
    """The same scenario with its people's mail domains and its group names made unique.

    Scenarios name fixed people (``mara.quinn@sunrise-clinic.example``) and groups; running
    several against one tenant, or one twice, would make later runs meet earlier runs' users.
    """

    def step_args(s: Step) -> dict[str, Any]:
        args = {k: _tagged(v, tag) for k, v in s.args.items() if k != "name"}
        if "name" in s.args:
            args["name"] = _tagged(s.args["name"], tag, group_name=True)
        return args

    steps = tuple(replace(s, args=step_args(s)) for s in scenario.steps)
    checks = tuple(replace(e, args=_tagged(e.args, tag)) for e in scenario.expectations)
    return replace(scenario, steps=steps, expectations=checks)


#: The keys a scenario file may have at its top level.
SCENARIO_KEYS = frozenset(
    {"name", "title", "steps", "expect", "idps", "variants", "users", "auth", "balancer"}
)


def _line_of(text: str, table: str, index: int) -> int | None:
    """The line of the ``index``-th ``[[table]]`` header (None when written inline)."""
    header = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
    found = [n for n, line in enumerate(text.splitlines(), 1) if header.match(line)]
    return found[index - 1] if 0 < index <= len(found) else None


def load_scenario(path: Path) -> Scenario:
    """A scenario from a ``.toml`` file; an error names the file's line."""
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ScenarioError(f"cannot read scenario file {path}: {error}") from None
    for key in raw:
        if key not in SCENARIO_KEYS:
            line = next(
                (n for n, text_line in enumerate(text.splitlines(), 1)
                 if re.match(rf"^\s*(\[+\s*)?{re.escape(key)}\b", text_line)),
                None,
            )  # fmt: skip
            where = f"{path}, line {line}" if line else str(path)
            known = ", ".join(sorted(SCENARIO_KEYS))
            msg = f"{where}: unknown key {key!r} (expected one of: {known})"
            raise ScenarioError(msg)
    raw.setdefault("name", path.stem)
    try:
        return Scenario.from_dict(raw, source=str(path))
    except ScenarioError as error:
        line = _line_of(text, error.table, error.index) if error.table and error.index else None
        if line is None:
            raise
        raise ScenarioError(f"{path}, line {line}: {error}", error.table, error.index) from None


# Helpers for writing scenarios in Python; they build exactly the TOML shape. -------------
def step(do: str, id: str | None = None, **args: Any) -> dict[str, Any]:
    return {"do": do, **({"id": id} if id else {}), **args}


def expect(kind: str, id: str, **args: Any) -> dict[str, Any]:
    return {"kind": kind, "id": id, **args}


def responses(id: str, label: str, status: list[int] | None = None, **args: Any) -> dict[str, Any]:
    return expect("responses", id, label=label, **({"status": status} if status else {}), **args)


def scenario(
    name: str, title: str, steps: list[dict[str, Any]], checks: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {"name": name, "title": title, "steps": steps, "expect": checks, **extra}
