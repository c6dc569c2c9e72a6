"""The User attributes the platform keeps: one table, from which everything else is derived.

Each row names a SCIM attribute (RFC 7643 §4.1), the staff profile field and database column
that hold it, its mutability and case-exactness, and how it is carried in a User and read.
The request parser, the response writer, PATCH paths, filter attributes, SQL columns, the
batch read, the fields read-only in the platform, the audited fields and the key columns
``rekey`` recomputes are all built from this table (each through
:meth:`AttributeTable.derived`), so a kept attribute is added here and nowhere else; its column
is added by a migration.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "USER_ATTRIBUTES",
    "AttributeTable",
    "Carrier",
    "UserAttribute",
    "ValueKind",
    "idp_owned_fields",
]

T = TypeVar("T")


class Carrier(StrEnum):
    """Where the value sits in a SCIM User."""

    SIMPLE = "simple"  # a singular top-level attribute: userName, externalId, active
    SUB = "sub"  # a sub-attribute of a singular complex one: name.givenName
    TYPED = "typed"  # the ``value`` of the one kept element of a multi-valued one: emails


class ValueKind(StrEnum):
    """How a value is read from a request and stored."""

    TEXT = "text"  # a string; a blank one is absent
    EMAIL = "email"  # a string normalised as scim2-models normalises ``emails.value``
    BOOLEAN = "boolean"  # true or false; absent on create means true (``active``)


@dataclass(frozen=True, slots=True)
class UserAttribute:
    """One kept attribute.

    ``scim`` is the top-level attribute name as RFC 7643 spells it; ``sub`` the sub-attribute
    for ``Carrier.SUB``; ``element_type`` the ``type`` of the kept element for
    ``Carrier.TYPED``, written ``primary`` when ``primary`` is set (and then the primary
    element is read first). ``required``: the account's key, stripped and never absent.
    ``keyed``: a case-insensitive text column has a ``text_key`` copy in ``{column}_key``
    (without one, filters fold with SQL ``lower()``, enough for phone numbers).
    ``released_on_delete``: the key is cleared once SCIM deletes the account, so the value
    may be reused. ``idp_owned``: once an identity provider provisions the account, the
    platform shows the field disabled and refuses to change it (the product's read-only
    provisioned fields)."""

    field: str
    scim: str
    carrier: Carrier = Carrier.SIMPLE
    sub: str | None = None
    element_type: str | None = None
    primary: bool = False
    kind: ValueKind = ValueKind.TEXT
    case_exact: bool = False
    mutability: str = "readWrite"
    required: bool = False
    max_length: int | None = 256
    column_name: str | None = None
    keyed: bool = True
    released_on_delete: bool = False
    idp_owned: bool = False

    @property
    def column(self) -> str:
        return self.column_name or self.field

    @property
    def key_column(self) -> str | None:
        """The column holding the ``text_key`` copy, if there is one."""
        if self.kind is ValueKind.BOOLEAN or self.case_exact or not self.keyed:
            return None
        return f"{self.column}_key"

    @property
    def path(self) -> str:
        """The attribute path a PATCH names it by (as Entra spells it)."""
        if self.carrier is Carrier.SUB:
            return f"{self.scim}.{self.sub}"
        if self.carrier is Carrier.TYPED:
            return f'{self.scim}[type eq "{self.element_type}"].value'
        return self.scim


class AttributeTable:
    """The kept attributes, and what is derived from them, rebuilt when the table changes.

    ``extended`` adds attributes for the length of a ``with`` block: that is how a test
    proves a new kept attribute needs no other change."""

    def __init__(self, attributes: tuple[UserAttribute, ...]) -> None:
        self._attributes = self._checked(attributes)
        self._derived: dict[Callable[[tuple[UserAttribute, ...]], Any], Any] = {}

    @staticmethod
    def _checked(attributes: tuple[UserAttribute, ...]) -> tuple[UserAttribute, ...]:
        fields = [a.field for a in attributes]
        typed = [a.scim for a in attributes if a.carrier is Carrier.TYPED]
        if len(set(fields)) != len(fields) or len(set(typed)) != len(typed):
            # One element per multi-valued attribute is what filters and PATCH assume.
            msg = "each field, and each multi-valued attribute, appears once"
            raise ValueError(msg)
        return attributes

    @property
    def attributes(self) -> tuple[UserAttribute, ...]:
        return self._attributes

    def derived(self, build: Callable[[tuple[UserAttribute, ...]], T]) -> T:
        """``build(attributes)``, built once per version of the table."""
        try:
            found: T = self._derived[build]
        except KeyError:
            found = self._derived[build] = build(self._attributes)
        return found

    @contextmanager
    def extended(self, *more: UserAttribute) -> Iterator[None]:
        before = self._attributes
        self._attributes = self._checked(before + more)
        self._derived.clear()
        try:
            yield
        finally:
            self._attributes = before
            self._derived.clear()


USER_ATTRIBUTES = AttributeTable(
    (
        UserAttribute(
            "user_name", "userName", required=True, released_on_delete=True, idp_owned=True
        ),
        UserAttribute("external_id", "externalId", case_exact=True),
        UserAttribute("given_name", "name", Carrier.SUB, sub="givenName", idp_owned=True),
        UserAttribute("family_name", "name", Carrier.SUB, sub="familyName", idp_owned=True),
        UserAttribute(
            "email",
            "emails",
            Carrier.TYPED,
            element_type="work",
            primary=True,
            kind=ValueKind.EMAIL,
        ),
        UserAttribute(
            "cell_phone",
            "phoneNumbers",
            Carrier.TYPED,
            element_type="mobile",
            max_length=64,
            keyed=False,
            idp_owned=True,
        ),
        UserAttribute("active", "active", kind=ValueKind.BOOLEAN, max_length=None),
    )
)


def _idp_owned(attributes: tuple[UserAttribute, ...]) -> tuple[str, ...]:
    return tuple(a.field for a in attributes if a.idp_owned)


def idp_owned_fields() -> tuple[str, ...]:
    """The fields an identity provider owns once it provisions an account: read-only in the
    platform (the console shows them disabled, the staff API refuses to change them)."""
    return USER_ATTRIBUTES.derived(_idp_owned)
