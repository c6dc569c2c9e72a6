"""Queries over staff accounts, independent of SCIM and of SQL.

A predicate is a small tree over the staff fields the platform keeps. The SCIM edge builds
it from an RFC 7644 §3.4.2.2 filter (``server.mapping.filters``); the persistence layer turns
it into SQL; ``matches`` evaluates it in Python, which is how the tests check the SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from server.domain.text import text_key
from server.domain.user_attributes import USER_ATTRIBUTES, UserAttribute, ValueKind

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    from server.domain.staff import StaffUser

__all__ = [
    "FIELD_KINDS",
    "AllOf",
    "AnyOf",
    "Constant",
    "FieldKind",
    "FieldTest",
    "Negation",
    "Operator",
    "Predicate",
    "ResourceQuery",
    "field_value",
    "matches",
]


class FieldKind(StrEnum):
    TEXT = "text"  # compared case-insensitively
    EXACT = "exact"  # compared as is (caseExact)
    BOOLEAN = "boolean"
    INSTANT = "instant"


class Operator(StrEnum):
    EQ = "eq"
    NE = "ne"
    CO = "co"
    SW = "sw"
    EW = "ew"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"
    PR = "pr"


# Fields that are not User attributes the platform keeps: ids, instants, and groups'.
_OTHER_KINDS: dict[str, FieldKind] = {
    "id": FieldKind.EXACT,
    "display_name": FieldKind.TEXT,
    "member": FieldKind.EXACT,
    "created_at": FieldKind.INSTANT,
    "updated_at": FieldKind.INSTANT,
}


def _kinds(attributes: tuple[UserAttribute, ...]) -> dict[str, FieldKind]:
    kinds = dict(_OTHER_KINDS)
    for attribute in attributes:
        if attribute.kind is ValueKind.BOOLEAN:
            kinds[attribute.field] = FieldKind.BOOLEAN
        else:
            kinds[attribute.field] = FieldKind.EXACT if attribute.case_exact else FieldKind.TEXT
    return kinds


class _FieldKinds(Mapping[str, FieldKind]):
    """Each queryable field's kind: the kept User attributes' from their table."""

    def __getitem__(self, field: str) -> FieldKind:
        return USER_ATTRIBUTES.derived(_kinds)[field]

    def __iter__(self) -> Iterator[str]:
        return iter(USER_ATTRIBUTES.derived(_kinds))

    def __len__(self) -> int:
        return len(USER_ATTRIBUTES.derived(_kinds))


FIELD_KINDS: Mapping[str, FieldKind] = _FieldKinds()


@dataclass(frozen=True, slots=True)
class FieldTest:
    field: str
    operator: Operator
    value: str | bool | datetime | None = None


@dataclass(frozen=True, slots=True)
class AllOf:
    terms: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    terms: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class Negation:
    term: Predicate


@dataclass(frozen=True, slots=True)
class Constant:
    """True or false whatever the account: a test on an attribute the platform never keeps."""

    value: bool


Predicate = FieldTest | AllOf | AnyOf | Negation | Constant


@dataclass(frozen=True, slots=True)
class ResourceQuery:
    predicate: Predicate | None = None
    sort_field: str | None = None
    descending: bool = False
    offset: int = 0
    limit: int = 100
    # Keyset paging (RFC 9865 cursors): only rows after this (created_at, id) in creation
    # order, so a deep page is one range scan of the (practice_id, created_at, id) index;
    # or only rows before ``before``, nearest first (the same index read backwards).
    after: tuple[datetime, UUID] | None = None
    before: tuple[datetime, UUID] | None = None
    # The total the caller already has (a cursor walk counts once, on its first page): the
    # repository answers it instead of counting every match again.
    known_total: int | None = None


def field_value(user: StaffUser, field: str) -> str | bool | datetime | None:
    if field == "id":
        return str(user.id)
    if field in {"created_at", "updated_at"}:
        value: datetime = getattr(user, field)
        return value
    result: str | bool | None = user.profile.value(field)
    return result


def _compare(kind: FieldKind, actual: object, operator: Operator, wanted: object) -> bool:
    if actual is None or actual == "":
        return operator is Operator.NE
    if operator is Operator.PR:
        return True
    if kind is FieldKind.TEXT:
        actual, wanted = text_key(str(actual)), text_key(str(wanted))
    result: bool
    match operator:
        case Operator.EQ:
            result = actual == wanted
        case Operator.NE:
            result = actual != wanted
        case Operator.CO:
            result = str(wanted) in str(actual)
        case Operator.SW:
            result = str(actual).startswith(str(wanted))
        case Operator.EW:
            result = str(actual).endswith(str(wanted))
        case Operator.GT:
            result = actual > wanted  # type: ignore[operator]
        case Operator.GE:
            result = actual >= wanted  # type: ignore[operator]
        case Operator.LT:
            result = actual < wanted  # type: ignore[operator]
        case _:
            result = actual <= wanted  # type: ignore[operator]
    return result


def matches(predicate: Predicate | None, user: StaffUser) -> bool:
    """Evaluate ``predicate`` for one account: the reference the SQL translation must equal."""
    match predicate:
        case None:
            return True
        case Constant(value):
            return value
        case Negation(term):
            return not matches(term, user)
        case AllOf(terms):
            return all(matches(term, user) for term in terms)
        case AnyOf(terms):
            return any(matches(term, user) for term in terms)
        case FieldTest(field, operator, value):
            return _compare(FIELD_KINDS[field], field_value(user, field), operator, value)
    raise TypeError(predicate)
