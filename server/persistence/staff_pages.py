"""A page of accounts (a SCIM list or filter) in one statement, each account with its
groups, as a read by id has them (``server.persistence.staff_batch``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from piccolo.querystring import QueryString

from server.persistence.rows import as_uuid, groups_in_order, staff_columns
from server.persistence.sql_filters import order_by, sort_expression

if TYPE_CHECKING:
    from uuid import UUID

    from server.domain.query import ResourceQuery

__all__ = ["count_statement", "listed_accounts", "page_memberships", "page_statement"]


# A page's rows carry each account's groups as one JSON array of (id, displayName, its
# key), read by a subquery per row of the page (never per matching row: the page is cut
# first), so a page is one statement, not one for the accounts and one for their groups.
_MEMBER_OF = (
    "(SELECT {aggregate} FROM group_member m JOIN scim_group g ON g.id = m.group_id "
    "WHERE m.practice_id = p.practice_id AND m.staff_id = p.id) AS member_of"
)
_SQLITE_MEMBER_OF = _MEMBER_OF.format(
    aggregate="json_group_array(json_array(g.id, g.display_name, g.display_name_key))"
)
_POSTGRES_MEMBER_OF = _MEMBER_OF.format(
    aggregate="json_agg(json_build_array(g.id, g.display_name, g.display_name_key))::text"
)


def _page_columns(columns: tuple[str, ...]) -> str:
    """What ``staff_from_row`` reads (from the table of kept attributes); of the password
    hash only whether there is one (NULL when none): the hash never leaves the database."""
    return ", ".join(
        "NULLIF(password_hash IS NOT NULL, FALSE) AS password_hash"
        if name == "password_hash"
        else name
        for name in columns
    )


def page_statement(sqlite: bool, query: ResourceQuery, condition: QueryString) -> QueryString:
    """One page of accounts in order, each with its groups: the page is cut in a subquery
    (with the sort expression as ``sort_key`` when there is one), then put in the same order
    again, as a join guarantees no order of its own. A row is the account's columns in the
    order of ``staff_columns`` (read by position, ``staff_from_values``), then ``sort_key``
    if any, then ``member_of`` last."""
    columns = _page_columns(staff_columns())
    sort_key = ""
    if query.sort_field is not None:
        sort_key = f", {sort_expression(query.sort_field)} AS sort_key"
    backward = query.before is not None  # a cursor's previous page: nearest first
    inner = order_by(query.sort_field, descending=query.descending, backward=backward)
    outer = order_by(
        query.sort_field,
        descending=query.descending,
        backward=backward,
        sorted_as=None if query.sort_field is None else "sort_key",
    )
    member_of = _SQLITE_MEMBER_OF if sqlite else _POSTGRES_MEMBER_OF
    return QueryString(
        f"SELECT p.*, {member_of} FROM (SELECT {columns}{sort_key} FROM staff_user "  # noqa: S608 - columns and ordering from fixed tables
        f"WHERE {{}} ORDER BY {inner} LIMIT {{}} OFFSET {{}}) p ORDER BY {outer}",
        condition,
        query.limit,
        query.offset,
    )


def listed_accounts(practice_id: object) -> QueryString:
    """The accounts a SCIM list can show: the practice's provisioned, undeleted ones
    (``practice_id`` as the driver takes it). Equalities on exactly the columns of the index
    ``staff_user_practice_scim_flags``, so their total is read from that index alone."""
    return QueryString(
        "practice_id = {} AND scim_provisioned = {} AND scim_deleted = {}", practice_id, True, False
    )


def count_statement(condition: QueryString) -> QueryString:
    """How many accounts match ``condition``: a list's ``totalResults``."""
    return QueryString("SELECT COUNT(*) AS total FROM staff_user WHERE {}", condition)


def page_memberships(member_of: str | None) -> list[tuple[UUID, str]]:
    """The groups of one account of a page (``member_of``), ordered as a read by id's."""
    if not member_of or member_of == "[]":
        return []
    members = [(key, as_uuid(group_id), name) for group_id, name, key in json.loads(member_of)]
    return groups_in_order(members)
