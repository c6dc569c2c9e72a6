"""What scenario steps do: edit the directory, or send requests outside a sync cycle."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from simulators.core import builders
from simulators.core.directory import Directory, Person
from simulators.core.mapping import CORE_USER, desired_values

if TYPE_CHECKING:
    from simulators.core.run_view import RunView
    from simulators.core.scenario import Step

__all__ = [
    "directory_step",
    "import_users",
    "raw_request",
    "seed",
    "send",
    "sso_login",
    "sso_sign_in",
]

_PERSON_FIELDS = {f.name for f in fields(Person)}
_REF = re.compile(r"\{ref:([\w.-]+)\}")


def directory_step(  # noqa: PLR0912 - a flat dispatch table
    d: Directory, step: Step, *, now: float, users: int, domain: str = "example.org"
) -> bool:
    """Apply a directory edit; ``False`` when the step is not one."""
    a = step.args
    match step.do:
        case "add_people":
            prefix = str(a.get("prefix", "user"))
            start = sum(k.startswith(prefix) for k in d.people)
            count = max(int(a.get("count", users)), int(a.get("min_count", 0)))
            d.add_generated(count, prefix=prefix, start=start, domain=domain)
        case "add_person":
            unknown = set(a) - _PERSON_FIELDS
            if unknown:
                raise ValueError(f"add_person: unknown fields {sorted(unknown)}")
            d.add_person(Person(**a))
        case "update_person":
            d.update_person(a["key"], **a["set"])
        case "disable":
            d.disable(a["key"], now=now)
        case "enable":
            d.enable(a["key"])
        case "soft_delete":
            d.soft_delete(a["key"], now=now)
        case "purge":
            d.purge(a["key"])
        case "unassign":
            d.update_person(a["key"], assigned=False, suspended_at=now)
        case "assign":
            d.update_person(a["key"], assigned=True, suspended_at=None)
        case "archive":
            d.update_person(a["key"], archived=True)
        case "add_group":
            d.add_group(a["key"], a["name"], list(a.get("members", [])))
        case "change_members":
            d.change_members(a["key"], add=a.get("add", []), remove=a.get("remove", []))
        case "rename_group":
            d.rename_group(a["key"], a["name"])
        case "delete_group":
            d.delete_group(a["key"])
        case _:
            return False
    return True


async def seed(run: RunView, a: dict[str, Any], *, many: bool) -> None:
    rows = []
    if many:
        prefix = str(a.get("prefix", "seed"))
        for i in range(int(a.get("count", run.users))):
            rows.append(
                {
                    "user_name": f"{prefix}{i}@seed.{run.domain}",
                    "given_name": "Seed",
                    "family_name": f"{prefix.title()} {i}",
                }
            )
    else:
        rows.append(a)
    for row in rows:
        body: dict[str, Any] = {
            "schemas": [CORE_USER],
            "userName": row["user_name"],
            "active": True,
        }
        if row.get("given_name") or row.get("family_name"):
            body["name"] = {
                "givenName": row.get("given_name"),
                "familyName": row.get("family_name"),
            }
        if row.get("email"):
            body["emails"] = [{"primary": True, "type": "work", "value": row["email"]}]
        request = builders.ScimRequest(
            "POST", "/Users", "seed.create", body=body, ok=frozenset({201})
        )
        outcome = await run.verify.send(request)
        if not outcome.ok:
            raise ValueError(f"seeding {row['user_name']!r} failed: {outcome.describe()}")
        run.seeded.append(str(outcome.body.get("id")) if isinstance(outcome.body, dict) else "")


def server_id(run: RunView, kind: str, key: str) -> str:
    table = run.sync.objects.users if kind == "user" else run.sync.objects.groups
    link = table.get(key)
    if link is None:
        raise ValueError(f"{kind} {key!r} was never provisioned, so it has no server id")
    return link.server_id


async def send(run: RunView, a: dict[str, Any]) -> None:
    dialect, builder = run.sync.dialect, a["builder"]
    person = run.directory.person(a["person"]) if "person" in a else None
    label = str(a.get("label", f"send.{builder}"))
    subject = f"user:{person.key}" if person else None
    if builder == "create_user" and person:
        request = builders.create_user(dialect, person, label=label)
    elif builder == "get_user" and person:
        request = builders.get_user(
            server_id(run, "user", person.key), subject=subject, label=label
        )
    elif builder == "delete_user" and person:
        request = builders.delete_user(
            server_id(run, "user", person.key), subject=subject, label=label
        )
    elif builder == "lookup_user":
        value = str(a.get("user_name") or (person.user_name if person else ""))
        attribute = str(a.get("attribute", "userName"))
        request = builders.lookup_user(dialect, attribute, value, subject=subject, label=label)
    else:
        raise ValueError(f"send: unknown builder {builder!r} or missing person")
    outcome = await run.sync.engine.send(request)
    if builder == "create_user" and not outcome.ok and subject:  # a failed task (O-07)
        run.sync.record_failure(subject, outcome, outcome.describe())


async def _cursor_paging(run: RunView) -> bool:
    """Whether the server announces RFC 9865 cursor paging in its ServiceProviderConfig."""
    outcome = await run.sync.engine.send(builders.service_provider_config())
    body = outcome.body if isinstance(outcome.body, dict) else {}
    pagination = body.get("pagination")
    return outcome.ok and isinstance(pagination, dict) and pagination.get("cursor") is True


async def import_users(run: RunView, size: int) -> None:
    """Page through every user: by cursor where the server announces it (each page one
    range read however deep), else by ``startIndex``."""
    if await _cursor_paging(run):
        cursor = ""
        for _ in range(1000):
            outcome = await run.sync.engine.send(builders.list_users(1, size, cursor=cursor))
            body = outcome.body if isinstance(outcome.body, dict) else {}
            following = body.get("nextCursor")
            if not outcome.ok or not isinstance(following, str) or not following:
                return
            cursor = following
        return
    start = 1
    for _ in range(1000):
        outcome = await run.sync.engine.send(builders.list_users(start, size))
        body = outcome.body if isinstance(outcome.body, dict) else {}
        got = len(outcome.resources)
        total = body.get("totalResults")
        if not outcome.ok or not got or not isinstance(total, int):
            return
        start += got
        if start > total:
            return


async def sso_login(run: RunView, a: dict[str, Any]) -> None:
    person, dialect = run.directory.person(a["person"]), run.sync.dialect
    logins = [s for s in dialect.sso_logins if s.protocol == a.get("protocol", s.protocol)]
    if not logins:
        raise ValueError(f"{dialect.name} has no {a.get('protocol')!r} login to simulate")
    for login in logins:
        values = desired_values(dialect, person)
        value = (
            person.user_name.upper()
            if login.attribute == "userName"
            else values.get(login.attribute)
        )
        if value is None:
            raise ValueError(f"{dialect.name} sends no {login.attribute} for {person.key}")
        request = builders.lookup_user(
            dialect,
            login.attribute,
            str(value),
            subject=f"user:{person.key}",
            label=f"sso.{login.protocol}",
        )
        await run.sync.engine.send(request)


def _refs(run: RunView, value: Any) -> Any:
    """``{ref:NAME}`` replaced by the id an earlier ``request`` step saved as NAME."""
    if isinstance(value, str):
        return _REF.sub(lambda m: _saved(run, m.group(1)), value)
    if isinstance(value, list):
        return [_refs(run, v) for v in value]
    if isinstance(value, dict):
        return {k: _refs(run, v) for k, v in value.items()}
    return value


def _saved(run: RunView, name: str) -> str:
    if name not in run.refs:
        raise ValueError(f"{{ref:{name}}}: no earlier request saved an id as {name!r}")
    return run.refs[name]


async def sso_sign_in(run: RunView, a: dict[str, Any]) -> None:
    """A real sign-in at the platform through each of the dialect's SSO logins (X-01)."""
    person, dialect = run.directory.person(a["person"]), run.sync.dialect
    if run.platform is None:
        raise ValueError(
            "real sign-ins need scimlab's management API (see --platform-url and --admin-key)"
        )
    logins = [s for s in dialect.sso_logins if s.protocol == a.get("protocol", s.protocol)]
    if not logins:
        raise ValueError(f"{dialect.name} has no {a.get('protocol')!r} login to simulate")
    for login in logins:
        subject = f"user:{person.key}"
        await run.platform.sign_in(
            login, dialect.name, person, run.recorder, subject=subject, at=run.clock.now()
        )


async def raw_request(run: RunView, a: dict[str, Any]) -> None:
    """One request as written: ``{user:KEY}``/``{group:KEY}`` are provisioned objects' ids,
    ``{ref:NAME}`` an id saved by an earlier request's ``save_id``; the body is ``body`` (a
    table) or ``json`` (JSON text, which can say ``null``)."""
    path = str(a["path"])
    for kind in ("user", "group"):
        while f"{{{kind}:" in path:
            start = path.index(f"{{{kind}:")
            end = path.index("}", start)
            path = (
                path[:start]
                + server_id(run, kind, path[start + len(kind) + 2 : end])
                + path[end + 1 :]
            )
    body = json.loads(a["json"]) if "json" in a else a.get("body")
    request = builders.ScimRequest(
        str(a["method"]).upper(),
        _refs(run, path),
        str(a.get("label", "request")),
        tuple((str(k), _refs(run, str(v))) for k, v in dict(a.get("query", {})).items()),
        _refs(run, body),
        frozenset(a.get("ok", [200, 201, 204])),
    )
    outcome = await run.sync.engine.send(request)
    if "save_id" in a:
        saved = outcome.body.get("id") if isinstance(outcome.body, dict) else None
        if not isinstance(saved, str):
            raise ValueError(f"{outcome.describe()}: no id to save as {a['save_id']!r}")
        run.refs[str(a["save_id"])] = saved
