"""SCIM filters and sort keys (RFC 7644 §3.4.2.2-3) as predicates over the kept staff fields.

Attribute names are case-insensitive and may carry the core schema URN. An attribute of the
User schema that the platform does not keep can never be present, so a test on it is a
constant (``title eq "x"`` is false, ``not (title pr)`` is true). A name no schema declares is
an ``invalidFilter``. Comparison values are checked against the attribute's type here, so the
database never sees a value it cannot compare.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scim2_models import InvalidFilterException, Path, ScimFilter
from scim2_models.path.expressions import (
    AttrPath,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)

from server.domain.query import (
    FIELD_KINDS,
    AllOf,
    AnyOf,
    Constant,
    FieldKind,
    FieldTest,
    Negation,
    Operator,
    Predicate,
)
from server.mapping.schema import UserModel

__all__ = ["MAX_FILTER_LENGTH", "parse_filter", "sort_field"]

MAX_FILTER_LENGTH = 4096
MAX_FILTER_TERMS = 64
_CORE_URN = "urn:ietf:params:scim:schemas:core:2.0:user"

# Attribute path (lower case, sub-attribute after a dot) -> staff field.
_FIELDS = {
    "id": "id",
    "username": "user_name",
    "externalid": "external_id",
    "active": "active",
    "name.givenname": "given_name",
    "name.familyname": "family_name",
    "emails": "email",
    "emails.value": "email",
    "phonenumbers": "cell_phone",
    "phonenumbers.value": "cell_phone",
    "meta.created": "created_at",
    "meta.lastmodified": "updated_at",
}
# Sub-attributes with one fixed value wherever the element exists: the platform keeps one work
# email (always primary) and one mobile number.
_FIXED = {
    "emails.type": ("email", "work"),
    "emails.primary": ("email", True),
    "phonenumbers.type": ("cell_phone", "mobile"),
    "meta.resourcetype": ("id", "User"),
}


def _key(path: AttrPath, parent: str | None = None) -> str:
    if path.uri and path.uri.lower() != _CORE_URN:
        return f"{path.uri.lower()}:{path.attr.lower()}"
    names = [parent, path.attr, path.sub_attr] if parent else [path.attr, path.sub_attr]
    return ".".join(n.lower() for n in names if n)


def _declared(path: AttrPath, parent: str | None) -> bool:
    text = f"{parent}.{path.attr}" if parent else str(path)
    try:
        return Path[UserModel](text).resolve() is not None
    except (ValueError, TypeError):
        return False


def _value(kind: FieldKind, operator: Operator, raw: Any, name: str) -> str | bool | datetime:
    if kind is FieldKind.BOOLEAN:
        if not isinstance(raw, bool) or operator not in {Operator.EQ, Operator.NE}:
            raise InvalidFilterException(detail=f"{name} only compares eq/ne with true or false")
        return raw
    if not isinstance(raw, str):
        raise InvalidFilterException(detail=f"{name} compares with a string value")
    if kind is FieldKind.INSTANT:
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidFilterException(detail=f"{name} compares with a dateTime") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return raw


def _fixed(field: str, constant: object, operator: Operator, raw: Any) -> Predicate:
    present = FieldTest(field, Operator.PR)
    if operator is Operator.PR:
        return present
    if isinstance(constant, bool) or isinstance(raw, bool):
        holds = operator in {Operator.EQ, Operator.NE} and (constant == raw) == (
            operator is Operator.EQ
        )
    else:
        text, wanted = str(constant).casefold(), str(raw).casefold()
        holds = {
            Operator.EQ: text == wanted,
            Operator.NE: text != wanted,
            Operator.CO: wanted in text,
            Operator.SW: text.startswith(wanted),
            Operator.EW: text.endswith(wanted),
            Operator.GT: text > wanted,
            Operator.GE: text >= wanted,
            Operator.LT: text < wanted,
            Operator.LE: text <= wanted,
        }[operator]
    if operator is Operator.NE:
        # RFC 7644 leaves absence open; like scim2-models, an absent attribute is "not equal".
        return Constant(value=True) if holds else Negation(present)
    return present if holds else Constant(value=False)


def _test(path: AttrPath, operator: Operator, raw: Any, parent: str | None) -> Predicate:
    key = _key(path, parent)
    if key in _FIXED:
        fixed_field, constant = _FIXED[key]
        return _fixed(fixed_field, constant, operator, raw)
    field = _FIELDS.get(key)
    if field is None:
        if not _declared(path, parent):
            raise InvalidFilterException(detail=f"unknown attribute {key!r}")
        return Constant(value=operator is Operator.NE)
    if operator is Operator.PR:
        return FieldTest(field, operator)
    kind = FIELD_KINDS[field]
    return FieldTest(field, operator, _value(kind, operator, raw, key))


def _translate(node: FilterNode, parent: str | None, budget: list[int]) -> Predicate:
    budget[0] -= 1
    if budget[0] < 0:
        raise InvalidFilterException(detail=f"the filter has more than {MAX_FILTER_TERMS} terms")
    match node:
        case Comparison(attr_path=path, op=op, value=raw):
            return _test(path, Operator(op.value), raw, parent)
        case Present(attr_path=path):
            return _test(path, Operator.PR, None, parent)
        case Not(expr=inner):
            return Negation(_translate(inner, parent, budget))
        case LogicalExpr(op=op, terms=terms):
            parts = tuple(_translate(term, parent, budget) for term in terms)
            return AllOf(parts) if op is LogicalOperator.and_ else AnyOf(parts)
        case ValuePath(attr_path=path, val_filter=inner):
            # Every kept multi-valued attribute holds at most one element, so "some element
            # matches" is: the element exists, and the inner filter holds for it.
            parent_key = _key(path)
            element = _FIELDS.get(parent_key)
            if element is None:
                if not _declared(path, None):
                    raise InvalidFilterException(detail=f"unknown attribute {parent_key!r}")
                return Constant(value=False)
            inner_predicate = _translate(inner, parent_key, budget)
            return AllOf((FieldTest(element, Operator.PR), inner_predicate))
    raise InvalidFilterException(detail="unsupported filter expression")


def parse_filter(text: str) -> Predicate:
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidFilterException(detail="the filter is too long")
    try:
        node = ScimFilter[UserModel](text).ast
    except InvalidFilterException:
        raise
    except (ValueError, TypeError, RecursionError) as error:
        raise InvalidFilterException(detail=f"invalid filter: {error}") from None
    return _translate(node, None, [MAX_FILTER_TERMS])


def sort_field(text: str) -> str | None:
    """The staff field ``sortBy`` names; None for a declared attribute the platform does not
    keep (every account ties, RFC 7644 §3.4.2.3); invalidValue-worthy names raise ValueError."""
    try:
        path = Path[UserModel](text.strip())
        binding = path.resolve()
    except (ValueError, TypeError):
        binding = None
    if binding is None:
        raise ValueError(f"cannot sort by unknown attribute {text[:80]!r}")
    lowered = text.strip().lower().removeprefix(_CORE_URN + ":")
    return _FIELDS.get(lowered)
