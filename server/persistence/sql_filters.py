"""Staff predicates as SQL, for SQLite and PostgreSQL alike. Values are always bound
parameters; column names come only from the table of kept attributes and the fixed
table below."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from piccolo.querystring import QueryString

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
    ResourceQuery,
)
from server.domain.text import text_key
from server.domain.user_attributes import USER_ATTRIBUTES, UserAttribute

__all__ = ["after_position", "cursor_condition", "keyset", "order_by", "sort_expression", "where"]

# Queryable columns that are not kept User attributes (the group's, and every resource's).
_OTHER_COLUMNS = {
    "id": "id",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "display_name": "display_name",
}
_OTHER_FOLDED = {"display_name": "display_name_key"}


def _columns(attributes: tuple[UserAttribute, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """field -> column, and field -> its case-folded form, from the table of kept attributes."""
    columns = {**_OTHER_COLUMNS, **{a.field: a.column for a in attributes}}
    folded = dict(_OTHER_FOLDED)
    for attribute in attributes:
        # Without a text_key copy (phone numbers: digits and symbols), ASCII lower() is enough.
        folded[attribute.field] = attribute.key_column or f"lower({attribute.column})"
    return columns, folded


_ORDERING = {
    Operator.EQ: "=",
    Operator.NE: "<>",
    Operator.GT: ">",
    Operator.GE: ">=",
    Operator.LT: "<",
    Operator.LE: "<=",
}


def _substring(left: str, value: str, operator: Operator, *, sqlite: bool) -> QueryString:
    """co / sw / ew without LIKE, whose case rules differ between SQLite and PostgreSQL."""
    if not value:
        return QueryString("1 = 1")
    size = len(value)
    if operator is Operator.CO:
        function = "instr" if sqlite else "strpos"
        return QueryString(f"{function}({left}, {{}}) > 0", value)
    if operator is Operator.SW:
        return QueryString(f"substr({left}, 1, {{}}) = {{}}", size, value)
    if sqlite:
        return QueryString(f"substr({left}, -{{}}) = {{}}", size, value)
    return QueryString(f"right({left}, {{}}) = {{}}", size, value)


def _parameter(value: object, *, sqlite: bool) -> object:
    """SQLite stores UUIDs and instants as text (piccolo's format); PostgreSQL takes objects."""
    if isinstance(value, datetime):
        moment = value.astimezone(UTC)
        # The text sqlite3 writes for a datetime, so comparisons line up with stored values.
        return moment.isoformat(sep=" ") if sqlite else moment
    return value


def _column(field: str) -> str:
    return USER_ATTRIBUTES.derived(_columns)[0][field]


def _folded_column(field: str) -> str:
    """The ``text_key`` copy of a case-insensitive column (``user_name_key`` carries the
    per-practice unique index, so userName equality is an index lookup)."""
    return USER_ATTRIBUTES.derived(_columns)[1][field]


def _membership(test: FieldTest, *, sqlite: bool) -> QueryString:
    """``members[value eq "id"]`` / ``members pr`` on groups: a membership row exists."""
    exists = "EXISTS (SELECT 1 FROM group_member gm WHERE gm.group_id = scim_group.id"
    if test.operator is Operator.PR:
        return QueryString(f"{exists})")
    try:
        member = UUID(str(test.value))
    except ValueError:
        return QueryString("1 = 0")
    return QueryString(f"{exists} AND gm.staff_id = {{}})", str(member) if sqlite else member)


def _field_test(test: FieldTest, *, sqlite: bool) -> QueryString:
    if test.field == "member":
        return _membership(test, sqlite=sqlite)
    column = _column(test.field)
    kind = FIELD_KINDS[test.field]
    # Text columns may hold '' (absent); uuid and other typed columns only NULL.
    textual = kind in {FieldKind.TEXT, FieldKind.EXACT} and test.field != "id"
    present = f"({column} IS NOT NULL AND {column} <> '')" if textual else f"{column} IS NOT NULL"
    if test.operator is Operator.PR:
        return QueryString(present)
    value: object = test.value
    if test.field == "id":
        try:
            value = str(UUID(str(value))) if sqlite else UUID(str(value))
        except ValueError:
            return QueryString("1 = 0" if test.operator is not Operator.NE else "1 = 1")
    left, bound = column, _parameter(value, sqlite=sqlite)
    if kind is FieldKind.TEXT:
        left, bound = _folded_column(test.field), text_key(str(value))
    if test.operator in {Operator.CO, Operator.SW, Operator.EW}:
        condition = _substring(left, str(bound), test.operator, sqlite=sqlite)
    else:
        sql_operator = "=" if test.operator is Operator.NE else _ORDERING[test.operator]
        condition = QueryString(f"{left} {sql_operator} {{}}", bound)
    if test.operator is Operator.NE:
        # Absent values are "not equal" too (see server.domain.query.matches).
        return QueryString(f"NOT ({present} AND {{}})", condition)
    return QueryString(f"({present} AND {{}})", condition)


def where(predicate: Predicate, *, sqlite: bool) -> QueryString:
    match predicate:
        case Constant(value):
            return QueryString("1 = 1" if value else "1 = 0")
        case Negation(term):
            return QueryString("NOT ({})", where(term, sqlite=sqlite))
        case AllOf(terms) | AnyOf(terms):
            joiner = " AND " if isinstance(predicate, AllOf) else " OR "
            parts = [where(term, sqlite=sqlite) for term in terms]
            template = joiner.join("({})" for _ in parts)
            return QueryString(template or "1 = 1", *parts)
        case FieldTest():
            return _field_test(predicate, sqlite=sqlite)
    raise TypeError(predicate)


def sort_expression(field: str) -> str:
    """What rows are sorted by for ``sortBy`` ``field``: its column, or its case-folded form
    for text (NULL exactly when the column is)."""
    column = _column(field)
    return _folded_column(field) if FIELD_KINDS[field] is FieldKind.TEXT else column


def order_by(
    field: str | None, *, descending: bool, backward: bool = False, sorted_as: str | None = None
) -> str:
    """ORDER BY with ``created_at, id`` last, so pages are stable (RFC 7644 §3.4.2.4);
    ``backward``: newest first (the rows before a cursor position, nearest first).
    ``sorted_as``: the name ``sort_expression(field)`` was selected as, in an outer query."""
    direction = "DESC" if descending else "ASC"
    keys = []
    if field is not None:
        column = sorted_as or _column(field)
        expression = sorted_as or sort_expression(field)
        # NULLs sort last either way, on both databases.
        keys.append(f"({column} IS NULL) ASC, {expression} {direction}")
    keys.append("created_at DESC, id DESC" if backward else "created_at ASC, id ASC")
    return ", ".join(keys)


def after_position(
    after: tuple[datetime, UUID], *, sqlite: bool, before: bool = False
) -> QueryString:
    """Rows after ``(created_at, id)`` in the default order (before it, ``before``): a
    row-value comparison, which both databases answer from the ``(practice_id, created_at,
    id)`` index."""
    created_at, row_id = after
    bound_id: object = str(row_id) if sqlite else row_id
    comparison = "<" if before else ">"
    return QueryString(
        f"(created_at, id) {comparison} ({{}}, {{}})",
        _parameter(created_at, sqlite=sqlite),
        bound_id,
    )


def cursor_condition(query: ResourceQuery, *, sqlite: bool) -> QueryString | None:
    """A query's cursor position as a condition (None without one)."""
    if query.after is not None:
        return after_position(query.after, sqlite=sqlite)
    if query.before is not None:
        return after_position(query.before, sqlite=sqlite, before=True)
    return None


def keyset(query: ResourceQuery, *, sqlite: bool) -> tuple[QueryString | None, str]:
    """A query's cursor position as a condition (None without one) and its ORDER BY."""
    ordering = order_by(
        query.sort_field, descending=query.descending, backward=query.before is not None
    )
    return cursor_condition(query, sqlite=sqlite), ordering
