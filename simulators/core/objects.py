"""Per-object provisioning: what the IdP sends for one person or one group.

``disposition`` says what the IdP wants the target to hold for a person right now, by the
dialect's rules (Entra's recycle bin, Okta's never-delete, Google's delayed deprovisioning).
``ObjectSync`` then compares that with what the IdP believes it already pushed (its links)
and sends the builders' requests: lookup, then create or match; updates; (de)activation;
delete; group create, membership and rename.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from simulators.core import builders
from simulators.core.dialect import MemberRemoval, OnDelete
from simulators.core.mapping import desired_values, extract

if TYPE_CHECKING:
    from simulators.core.dialect import Dialect
    from simulators.core.directory import Directory, Person
    from simulators.core.engine import Engine, Outcome

__all__ = ["Disposition", "GroupLink", "ObjectFailed", "ObjectSync", "UserLink", "disposition"]

_MATCH_KEYS = {'emails[type eq "work"].value': "emails[work]"}


class Disposition(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    ABSENT = "absent"
    KEEP = "keep"  # leave the target as it is (out of reach, or a delay still running)


def disposition(dialect: Dialect, person: Person, now: float) -> tuple[Disposition, float | None]:
    """What the target should hold for ``person`` now, and when to look again (if ever)."""
    if person.archived:
        return Disposition.KEEP, None
    if person.purged or person.deleted_at is not None:
        deleted_at = person.deleted_at if person.deleted_at is not None else now
        due = deleted_at + (dialect.purge_after or dialect.deprovision_delay)
        if person.purged or now >= due:
            gone = dialect.on_delete is OnDelete.DELETE
            return (Disposition.ABSENT if gone else Disposition.INACTIVE), None
        if dialect.purge_after:  # Entra's recycle bin: disabled now, deleted later
            return Disposition.INACTIVE, due
        return Disposition.KEEP, due
    if not person.active or not person.assigned:
        start = person.suspended_at if person.suspended_at is not None else now
        due = start + dialect.deprovision_delay
        if now < due:
            return Disposition.KEEP, due
        gone = dialect.suspend_action is OnDelete.DELETE
        return (Disposition.ABSENT if gone else Disposition.INACTIVE), None
    return Disposition.ACTIVE, None


class ObjectFailed(Exception):
    def __init__(self, outcome: Outcome | None, detail: str | None = None) -> None:
        super().__init__(detail or (outcome.describe() if outcome else "failed"))
        self.outcome = outcome


@dataclass
class UserLink:
    server_id: str
    pushed: dict[str, Any]
    active: bool
    managed: bool = True
    deleted: bool = False


@dataclass
class GroupLink:
    server_id: str
    name: str
    members: set[str] = field(default_factory=set)


class ObjectSync:
    def __init__(self, engine: Engine, directory: Directory, dialect: Dialect) -> None:
        self.engine = engine
        self.directory = directory
        self.dialect = dialect
        self.users: dict[str, UserLink] = {}
        self.groups: dict[str, GroupLink] = {}
        self._values: dict[str, tuple[Person, Dialect, dict[str, Any]]] = {}

    def server_id(self, person_key: str) -> str | None:
        link = self.users.get(person_key)
        return link.server_id if link and not link.deleted else None

    async def send(self, request: builders.ScimRequest) -> Outcome:
        outcome = await self.engine.send(request)
        if not outcome.ok:
            raise ObjectFailed(outcome)
        return outcome

    def desired(self, person: Person, dialect: Dialect | None = None) -> dict[str, Any]:
        """What the dialect maps ``person`` to, without ``manager`` (the second pass resolves
        it), computed once per version of the person: an edit in the directory replaces the
        ``Person``. Shared by the lookup, the create, the update and the state checks, so the
        result is read-only to them."""
        dialect = dialect or self.dialect
        cached = self._values.get(person.key)
        if cached is None or cached[0] is not person or cached[1] is not dialect:
            values = desired_values(dialect, person)
            values.pop("manager", None)
            cached = self._values[person.key] = (person, dialect, values)
        return cached[2]

    # users -------------------------------------------------------------------------------
    async def sync_user(self, person: Person, *, full: bool = False) -> float | None:
        """Bring the target in line for one person; returns when to look again, if ever."""
        d = self.dialect
        state, due = disposition(d, person, self.engine.clock.now())
        link = self.users.get(person.key)
        if link is not None and link.deleted:
            link = None
        subject = f"user:{person.key}"
        if state is Disposition.KEEP:
            return due
        if state is Disposition.ABSENT:
            if link is not None and link.managed:
                await self.send(builders.delete_user(link.server_id, subject=subject))
                link.deleted = True
            return None
        if link is None:
            if state is Disposition.INACTIVE and not d.create_disabled_users:
                return due
            link = await self._lookup_or_create(person)
            if link is None:
                return due
        elif link.managed is False:
            if state is Disposition.INACTIVE or not person.assigned:
                return due
            link.managed = True
        elif full:
            got = await self.send(builders.get_user(link.server_id, subject=subject))
            resource = got.body if isinstance(got.body, dict) else {}
            link.pushed = {k: extract(resource, k) for k in d.user_attributes}
        await self._update(person, link)
        want_active = state is Disposition.ACTIVE
        if link.active != want_active:
            await self.send(builders.set_active(d, person, link.server_id, want_active))
            link.active = want_active
        if not person.assigned and d.unassign_stops_management:
            link.managed = False  # Entra: an unassigned user is no longer managed (§1.5)
        return due

    async def _lookup_or_create(self, person: Person) -> UserLink | None:
        d, desired, subject = self.dialect, self.desired(person), f"user:{person.key}"
        match: dict[str, Any] | None = None
        for attribute in d.match_attributes:
            value = desired.get(_MATCH_KEYS.get(attribute, attribute))
            if value is None:
                continue
            request = builders.lookup_user(d, attribute, str(value), subject=subject)
            outcome = await self.send(request)
            if outcome.status != 200:
                continue  # Okta takes a 404 as "not found" (§2.3)
            found = outcome.resources
            if len(found) > 1:
                raise ObjectFailed(outcome, f"{len(found)} users match {attribute} eq {value!r}")
            if found:
                match = found[0]
                break
        if match is None:
            if not person.active:
                return None
            password = None
            if d.sends_password:  # Okta sends a random password on create (§2.3)
                password = "Ok-" + hashlib.sha256(f"pw:{person.key}".encode()).hexdigest()[:14]
            request = builders.create_user(d, person, password=password, values=desired)
            outcome = await self.send(request)
            body = outcome.body if isinstance(outcome.body, dict) else {}
            if not body.get("id"):
                raise ObjectFailed(outcome, "create returned no user (empty body or no id)")
            link = UserLink(str(body["id"]), pushed=dict(desired), active=person.active)
        else:
            observed = {k: extract(match, k) for k in d.user_attributes}
            link = UserLink(
                str(match.get("id")), pushed=observed, active=match.get("active") is True
            )
        self.users[person.key] = link
        return link

    async def _update(self, person: Person, link: UserLink) -> None:
        d, desired = self.dialect, self.desired(person)
        changed = {k: v for k, v in desired.items() if link.pushed.get(k) != v}
        if not changed:
            return
        current = None
        if d.read_before_update:
            request = builders.get_user(link.server_id, subject=f"user:{person.key}")
            got = await self.send(request)
            current = got.body if isinstance(got.body, dict) else None
        request = builders.update_user(
            d, person, link.server_id, changed, current=current, active=link.active
        )
        await self.send(request)
        link.pushed.update(changed)

    async def link_manager(self, person: Person) -> None:
        """Entra's second pass: the manager reference once both users exist (§1.3)."""
        link = self.users.get(person.key)
        if (
            link is None
            or link.deleted
            or not link.managed
            or "manager" not in self.dialect.user_attributes
        ):
            return
        manager = self.server_id(person.manager) if person.manager else None
        if manager is None or link.pushed.get("manager") == manager:
            return
        empty = link.pushed.get("manager") is None  # an empty attribute is written with Add
        current: dict[str, Any] | None = {} if empty else None
        request = builders.update_user(
            self.dialect, person, link.server_id, {"manager": manager}, current=current
        )
        await self.send(request)
        link.pushed["manager"] = manager

    # groups ------------------------------------------------------------------------------
    async def sync_group(self, key: str) -> None:
        d, group, subject = self.dialect, self.directory.group(key), f"group:{key}"
        link = self.groups.get(key)
        if not d.push_groups:
            return
        if group.deleted:
            if link is not None and d.delete_groups:
                await self.send(builders.delete_group(link.server_id, subject=subject))
                del self.groups[key]
            return
        if link is None:
            outcome = await self.send(builders.lookup_group(d, group.name, subject=subject))
            if outcome.resources:
                found = outcome.resources[0]
                members = {str(m.get("value")) for m in found.get("members") or []}
                link = GroupLink(str(found.get("id")), str(found.get("displayName")), members)
            else:
                request = builders.create_group(
                    d, group.name, external_id=group.object_id, subject=subject
                )
                created = await self.send(request)
                body = created.body if isinstance(created.body, dict) else {}
                if not body.get("id"):
                    raise ObjectFailed(created, "group create returned no id")
                link = GroupLink(str(body["id"]), group.name)
            self.groups[key] = link
        await self._group_changes(key, link)

    async def _group_changes(self, key: str, link: GroupLink) -> None:
        d, group, subject = self.dialect, self.directory.group(key), f"group:{key}"
        desired = set()
        for member in group.members:
            user = self.users.get(member)
            if user is not None and user.managed and not user.deleted:
                desired.add(user.server_id)
        add, remove = sorted(desired - link.members), sorted(link.members - desired)
        renamed = link.name != group.name
        if (
            renamed
            and not d.rename_with_membership
            and d.member_removal is not MemberRemoval.PUT_GROUP
        ):
            await self.send(builders.rename_group(d, link.server_id, group.name, subject=subject))
            link.name = group.name
        displays = {
            u.server_id: p.user_name
            for k, u in self.users.items()
            if (p := self.directory.people.get(k))
        }
        requests = builders.member_changes(
            d,
            link.server_id,
            group.name,
            add=add,
            remove=remove,
            members=desired,
            displays=displays if d.combine_member_ops else None,
            subject=subject,
        )
        if d.member_removal is MemberRemoval.PUT_GROUP and not (add or remove or renamed):
            requests = []
        for request in requests:
            await self.send(request)
        link.members = desired
        if d.rename_with_membership and (add or remove or renamed):
            await self.send(builders.rename_group(d, link.server_id, group.name, subject=subject))
        link.name = group.name
