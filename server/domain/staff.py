"""Staff accounts and access levels.

A SCIM-provisioned staff account starts at the lowest access level and gains more
only when a practice administrator assigns it; provisioning never raises access.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import StrEnum
from operator import attrgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from uuid import UUID

__all__ = [
    "AccessLevel",
    "StaffProfile",
    "StaffUser",
]


class AccessLevel(StrEnum):
    """Access levels, lowest first. Only the lowest has no chart access."""

    ADMIN_STAFF = "admin_staff"
    CLINICAL_STAFF = "clinical_staff"
    PROVIDER = "provider"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def chart_access(self) -> bool:
        return self is not AccessLevel.ADMIN_STAFF


_LABELS = {
    AccessLevel.ADMIN_STAFF: "Admin Staff",
    AccessLevel.CLINICAL_STAFF: "Clinical Staff",
    AccessLevel.PROVIDER: "Provider",
}


@dataclass(frozen=True, slots=True)
class StaffProfile:
    """The accepted attributes of a staff account: all that SCIM may write.

    Everything else an identity provider sends is ignored. Which attributes are kept is
    ``server.domain.user_attributes``; the fields named here are the ones the platform
    itself reads (the console, sign-in). A kept attribute without a field of its own is in
    ``extra`` as sorted (field, value) pairs, without None values.
    """

    user_name: str
    given_name: str | None = None
    family_name: str | None = None
    cell_phone: str | None = None
    email: str | None = None
    active: bool = True
    external_id: str | None = None
    extra: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> StaffProfile:
        """A profile from each kept attribute's field and value (``user_name`` required)."""
        if values.keys() <= _NAMED:
            return cls(**values)
        named = {k: v for k, v in values.items() if k in _NAMED}
        extra = sorted((k, v) for k, v in values.items() if k not in _NAMED and v is not None)
        return cls(**named, extra=tuple(extra))

    @staticmethod
    def getter(field: str) -> Callable[[StaffProfile], Any]:
        """``value`` of one field, as a function (for code run per account)."""
        if field in _NAMED:
            return attrgetter(field)
        return lambda profile: profile.value(field)

    def value(self, field: str) -> Any:
        """The value of a kept attribute's field, None when absent."""
        if field in _NAMED:
            return getattr(self, field)
        for name, value in self.extra:
            if name == field:
                return value
        return None

    def with_values(self, values: Mapping[str, Any]) -> StaffProfile:
        """This profile with some fields set (named ones and extra ones alike)."""
        named = {k: v for k, v in values.items() if k in _NAMED}
        others = {k: v for k, v in values.items() if k not in _NAMED}
        if others:
            merged = {**dict(self.extra), **others}
            named["extra"] = tuple(sorted((k, v) for k, v in merged.items() if v is not None))
        return replace(self, **named) if named else self


_NAMED = frozenset(f.name for f in fields(StaffProfile)) - {"extra"}


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A staff account of one practice."""

    id: UUID
    practice_id: UUID
    profile: StaffProfile
    access_level: AccessLevel
    is_practice_admin: bool
    scim_provisioned: bool
    scim_deleted: bool
    sso_issuer: str | None
    sso_subject: str | None
    has_password: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def etag(self) -> str:
        """Weak entity tag of this version (RFC 7232 §2.3, RFC 7644 §3.14)."""
        return f'W/"{self.version}"'
