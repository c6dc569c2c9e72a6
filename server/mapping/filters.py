"""SCIM filters and sort keys (RFC 7644 §3.4.2.2-3) as predicates over the kept staff fields.

Attribute names are case-insensitive and may carry the core schema URN. An attribute of the
User schema that the platform does not keep can never be present, so a test on it is a
constant (``title eq "x"`` is false, ``not (title pr)`` is true). A name no schema declares is
an ``invalidFilter``. Comparison values are checked against the attribute's type here, so the
database never sees a value it cannot compare.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from scim2_models import (
    InvalidFilterException,
    Path,
    SCIMException,
    ScimFilter,
    TooManyException,
)
from scim2_models.path import (
    AttrPath,
    CompareOperator,
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
from server.domain.text import text_key, unstorable
from server.mapping.filter_schemas import GROUP_FILTERS, USER_FILTERS, FilterSchema

__all__ = [
    "GROUP_FILTERS",
    "MAX_FILTER_LENGTH",
    "USER_FILTERS",
    "FilterSchema",
    "parse_filter",
    "parse_filter_with_grammar",
    "sort_field",
    "user_name_equality",
]

MAX_FILTER_LENGTH = 4096
MAX_FILTER_TERMS = 64


# scim2-models caches bound classes in a WeakValueDictionary and reads an entry back after
# testing for it: a garbage collection in between raised KeyError, a 500 on filtered lists
# (found by tests/reliability/test_isolation.py). The bound classes are kept alive here.
_BOUND: dict[tuple[Any, Any], Any] = {}


def _generic(generic: Any, schema: FilterSchema) -> Any:
    """``Path`` or ``ScimFilter`` bound to the schema's model (chosen at run time)."""
    key = (generic, schema.model)
    if key not in _BOUND:
        for attempt in range(3):
            try:
                _BOUND[key] = generic[schema.model]
                break
            except KeyError:
                if attempt == 2:
                    raise
    return _BOUND[key]


def _key(schema: FilterSchema, path: AttrPath, parent: str | None = None) -> str:
    if path.uri and path.uri.lower() != schema.core_urn:
        return f"{path.uri.lower()}:{path.attr.lower()}"
    names = [parent, path.attr, path.sub_attr] if parent else [path.attr, path.sub_attr]
    return ".".join(n.lower() for n in names if n)


def _declared(schema: FilterSchema, path: AttrPath, parent: str | None) -> bool:
    text = f"{parent}.{path.attr}" if parent else str(path)
    try:
        return _generic(Path, schema)(text).resolve() is not None
    except (ValueError, TypeError, SCIMException):
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
    problem = unstorable(raw)
    if problem is not None:
        raise InvalidFilterException(detail=f"{name} compares with text holding {problem}")
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
        text, wanted = text_key(str(constant)), text_key(str(raw))
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


def _test(
    schema: FilterSchema, path: AttrPath, operator: Operator, raw: Any, parent: str | None
) -> Predicate:
    key = _key(schema, path, parent)
    if key in schema.fixed:
        fixed_field, constant = schema.fixed[key]
        return _fixed(fixed_field, constant, operator, raw)
    field = schema.fields.get(key)
    if field is None:
        if not _declared(schema, path, parent):
            raise InvalidFilterException(detail=f"unknown attribute {key!r}")
        return Constant(value=operator is Operator.NE)
    if operator is Operator.PR:
        return FieldTest(field, operator)
    if field == "member" and operator is not Operator.EQ:
        raise InvalidFilterException(detail="members.value only compares with eq")
    kind = FIELD_KINDS[field]
    return FieldTest(field, operator, _value(kind, operator, raw, key))


def _translate(
    schema: FilterSchema, node: FilterNode, parent: str | None, budget: list[int]
) -> Predicate:
    if isinstance(node, Comparison | Present):
        budget[0] -= 1
        if budget[0] < 0:
            raise TooManyException(detail=f"the filter has more than {MAX_FILTER_TERMS} terms")
    match node:
        case Comparison(attr_path=path, op=op, value=raw):
            return _test(schema, path, Operator(op.value), raw, parent)
        case Present(attr_path=path):
            return _test(schema, path, Operator.PR, None, parent)
        case Not(expr=inner):
            return Negation(_translate(schema, inner, parent, budget))
        case LogicalExpr(op=op, terms=terms):
            parts = tuple(_translate(schema, term, parent, budget) for term in terms)
            return AllOf(parts) if op is LogicalOperator.and_ else AnyOf(parts)
        case ValuePath(attr_path=path, val_filter=inner):
            # Every kept multi-valued attribute holds at most one element, so "some element
            # matches" is: the element exists, and the inner filter holds for it.
            parent_key = _key(schema, path)
            element = schema.fields.get(parent_key)
            if element is None:
                if not _declared(schema, path, None):
                    raise InvalidFilterException(detail=f"unknown attribute {parent_key!r}")
                return Constant(value=False)
            inner_predicate = _translate(schema, inner, parent_key, budget)
            return AllOf((FieldTest(element, Operator.PR), inner_predicate))
    raise InvalidFilterException(detail="unsupported filter expression")


#: ``attr eq "value"`` or ``attr.sub eq "value"``: what identity providers send on every
#: lookup (RFC 7644 §3.4.2.2 ``attrPath SP compareOp SP compValue``, no URN prefix).
_SIMPLE_EQUALITY = re.compile(
    r"\s*([A-Za-z][A-Za-z0-9_-]*)(?:\.([A-Za-z][A-Za-z0-9_-]*))?"  # attrPath
    r'[ ]+[eE][qQ][ ]+("(?:[^"\\]|\\.)*")\s*',  # SP "eq" SP string
    re.ASCII,
)


def _simple_equality(text: str) -> Comparison | None:
    """The AST the grammar would build for a plain equality test, without running the
    grammar; None for anything else (which then goes through the full parser)."""
    match = _SIMPLE_EQUALITY.fullmatch(text)
    if match is None:
        return None
    attr, sub_attr, literal = match.groups()
    try:
        value = json.loads(literal)
    except ValueError:
        return None
    return Comparison(attr_path=AttrPath(attr, sub_attr, None), op=CompareOperator.eq, value=value)


def user_name_equality(text: str | None) -> str | None:
    """The value of a plain ``userName eq "value"`` filter as ``parse_filter`` reads it, None
    for any other: what a search looks up, known before it is parsed. A value no database can
    compare (``unstorable``) is none: ``parse_filter`` refuses it."""
    if not text or len(text) > MAX_FILTER_LENGTH:
        return None
    simple = _simple_equality(text)
    if simple is None or not isinstance(simple.value, str) or unstorable(simple.value):
        return None
    field = USER_FILTERS.fields.get(_key(USER_FILTERS, simple.attr_path))
    return simple.value if field == "user_name" else None


def parse_filter(text: str, schema: FilterSchema = USER_FILTERS) -> Predicate:
    if len(text) > MAX_FILTER_LENGTH:
        raise TooManyException(detail="the filter is too long")
    simple = _simple_equality(text)
    if simple is not None:
        return _translate(schema, simple, None, [MAX_FILTER_TERMS])
    return parse_filter_with_grammar(text, schema)


def parse_filter_with_grammar(text: str, schema: FilterSchema = USER_FILTERS) -> Predicate:
    """The full RFC 7644 §3.4.2.2 grammar (scim2-models), for every filter."""
    if len(text) > MAX_FILTER_LENGTH:
        raise TooManyException(detail="the filter is too long")
    try:
        node = _generic(ScimFilter, schema)(text).ast
    except InvalidFilterException:
        raise
    except (ValueError, TypeError, RecursionError) as error:
        raise InvalidFilterException(detail=f"invalid filter: {error}") from None
    return _translate(schema, node, None, [MAX_FILTER_TERMS])


def sort_field(text: str, schema: FilterSchema = USER_FILTERS) -> str | None:
    """The staff field ``sortBy`` names; None for a declared attribute the platform does not
    keep (every account ties, RFC 7644 §3.4.2.3); invalidValue-worthy names raise ValueError."""
    try:
        path = _generic(Path, schema)(text.strip())
        binding = path.resolve()
    except (ValueError, TypeError, SCIMException):
        binding = None
    if binding is None:
        raise ValueError(f"cannot sort by unknown attribute {text[:80]!r}")
    lowered = text.strip().lower().removeprefix(schema.core_urn + ":")
    field = schema.fields.get(lowered)
    return None if field == "member" else field
