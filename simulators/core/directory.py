"""The identity provider's side of the world: people, groups and the changes made to them.

A ``Directory`` is what an administrator edits in Entra, Okta or Google. Every edit bumps a
version and marks the object as changed, so a sync engine can ask "what changed since the
watermark" the way Entra's incremental cycles and Okta's event-driven pushes do. Nothing here
knows about SCIM; dialects turn these records into wire bodies.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = ["Directory", "Group", "Person", "generated_person", "group_key", "user_key"]

_GIVEN = ("Alice", "Bo", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Jun")
_FAMILY = ("Ng", "Silva", "Okafor", "Lee", "Haddad", "Novak", "Sato", "Berg", "Costa", "Park")
_TITLES = ("Nurse", "Receptionist", "Physician", "Practice Manager", "Billing Clerk")


def user_key(key: str) -> str:
    return f"user:{key}"


def group_key(key: str) -> str:
    return f"group:{key}"


def _digest(text: str, size: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:size]


@dataclass
class Person:
    """A person as the identity provider holds them (source attributes, not SCIM names)."""

    key: str
    user_name: str
    given_name: str | None = None
    family_name: str | None = None
    middle_name: str | None = None
    display_name: str | None = None
    email: str | None = None
    mobile: str | None = None
    work_phone: str | None = None
    title: str | None = None
    department: str | None = None
    employee_number: str | None = None
    locality: str | None = None
    region: str | None = None
    country: str | None = None
    manager: str | None = None
    roles: list[str] = field(default_factory=list)
    external_id: str | None = None
    active: bool = True
    assigned: bool = True
    archived: bool = False
    deleted_at: float | None = None
    purged: bool = False
    suspended_at: float | None = None
    id_seed: str = ""  # what the IdP's own ids derive from (default: the key)

    @property
    def object_id(self) -> str:
        """A stable GUID-shaped id, like Entra's objectId (the OIDC ``oid``)."""
        h = _digest(f"object:{self.id_seed or self.key}", 32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    @property
    def okta_id(self) -> str:
        """An Okta user id (``00u…``, 20 characters), the OIDC ``sub`` at Okta."""
        return "00u" + _digest(f"okta:{self.id_seed or self.key}", 17)

    @property
    def mail_nickname(self) -> str:
        return self.user_name.split("@", 1)[0]

    @property
    def full_name(self) -> str | None:
        if self.display_name:
            return self.display_name
        parts = [p for p in (self.given_name, self.family_name) if p]
        return " ".join(parts) or None


@dataclass
class Group:
    key: str
    name: str
    members: set[str] = field(default_factory=set)
    object_id: str = ""
    deleted: bool = False

    def __post_init__(self) -> None:
        if not self.object_id:
            h = _digest(f"group:{self.key}", 32)
            self.object_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_PERSON_FIELDS = {f.name for f in fields(Person)} - {"key"}


def generated_person(index: int, *, prefix: str = "user", domain: str = "example.org") -> Person:
    """A deterministic, realistic-looking staff member."""
    given, family = _GIVEN[index % len(_GIVEN)], _FAMILY[(index // len(_GIVEN)) % len(_FAMILY)]
    key = f"{prefix}{index}"
    return Person(
        key=key,
        user_name=f"{given}.{family}{index}@{domain}".lower(),
        given_name=given,
        family_name=family,
        email=f"{given}.{family}{index}@{domain}".lower(),
        mobile=f"+1 555 01{index % 100:02d} {index:04d}",
        title=_TITLES[index % len(_TITLES)],
        department="Clinic",
        employee_number=f"{100000 + index}",
        id_seed=f"{key}@{domain}",
    )


class Directory:
    """People and groups, with a change log a sync engine reads from a watermark."""

    def __init__(self) -> None:
        self.people: dict[str, Person] = {}
        self.groups: dict[str, Group] = {}
        self.version = 0
        self._changes: list[tuple[int, str]] = []

    def _touch(self, key: str) -> None:
        self.version += 1
        self._changes.append((self.version, key))

    def changed_since(self, version: int) -> list[str]:
        """Changed object keys after ``version``, in first-change order, without repeats."""
        seen: dict[str, None] = {}
        for at, key in self._changes:
            if at > version:
                seen.setdefault(key, None)
        return list(seen)

    def all_keys(self) -> list[str]:
        return [user_key(k) for k in self.people] + [group_key(k) for k in self.groups]

    # people ------------------------------------------------------------------------------
    def add_person(self, person: Person) -> Person:
        if person.key in self.people:
            raise ValueError(f"person {person.key!r} already exists")
        self.people[person.key] = person
        self._touch(user_key(person.key))
        return person

    def add_generated(
        self, count: int, *, prefix: str = "user", start: int = 0, domain: str = "example.org"
    ) -> list[Person]:
        people = (generated_person(start + i, prefix=prefix, domain=domain) for i in range(count))
        return [self.add_person(p) for p in people]

    def person(self, key: str) -> Person:
        try:
            return self.people[key]
        except KeyError:
            raise ValueError(f"no person {key!r} in the directory") from None

    def update_person(self, key: str, **changes: Any) -> Person:
        unknown = set(changes) - _PERSON_FIELDS
        if unknown:
            raise ValueError(f"unknown person attributes: {sorted(unknown)}")
        self.people[key] = replace(self.person(key), **changes)
        self._touch(user_key(key))
        return self.people[key]

    def disable(self, key: str, *, now: float = 0.0) -> None:
        self.update_person(key, active=False, suspended_at=now)

    def enable(self, key: str) -> None:
        self.update_person(key, active=True, suspended_at=None, deleted_at=None)

    def soft_delete(self, key: str, *, now: float) -> None:
        """Entra's recycle bin; Okta's and Google's delete (the dialect decides what it means)."""
        self.update_person(key, deleted_at=now)

    def purge(self, key: str) -> None:
        self.update_person(key, purged=True)

    def set_assigned(self, key: str, assigned: bool) -> None:
        self.update_person(key, assigned=assigned)

    # groups ------------------------------------------------------------------------------
    def add_group(self, key: str, name: str, members: list[str] | tuple[str, ...] = ()) -> Group:
        if key in self.groups:
            raise ValueError(f"group {key!r} already exists")
        for member in members:
            self.person(member)
        self.groups[key] = Group(key=key, name=name, members=set(members))
        self._touch(group_key(key))
        return self.groups[key]

    def group(self, key: str) -> Group:
        try:
            return self.groups[key]
        except KeyError:
            raise ValueError(f"no group {key!r} in the directory") from None

    def change_members(
        self,
        key: str,
        *,
        add: list[str] | tuple[str, ...] = (),
        remove: list[str] | tuple[str, ...] = (),
    ) -> None:
        group = self.group(key)
        for member in add:
            self.person(member)
        group.members = (group.members | set(add)) - set(remove)
        self._touch(group_key(key))

    def rename_group(self, key: str, name: str) -> None:
        self.group(key).name = name
        self._touch(group_key(key))

    def delete_group(self, key: str) -> None:
        self.group(key).deleted = True
        self._touch(group_key(key))
