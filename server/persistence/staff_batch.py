"""An account with its groups by (practice, id) or by (practice, userName key): one fixed
statement for one account, and for many ids on SQLite one statement that returns one row
(``server.persistence.turn_batch`` says why).

The keys go in as one JSON parameter, so the statement's text, and SQLite's prepared
statement, is the same for any number of keys. The answer comes back as one JSON array,
built by SQLite: one step of the statement, where a row per account and group would be a
step each, and ``sqlite3`` releases the GIL at every step. The join names each key's
practice, as every query does.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING

from server.persistence.fixed_statements import ColumnRow, DirectSql, Statement
from server.persistence.rows import staff_columns

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

__all__ = [
    "BY_ID_WITH_GROUPS",
    "BY_ID_WITH_GROUPS_TEXT",
    "BY_USER_NAME_WITH_GROUPS",
    "BY_USER_NAME_WITH_GROUPS_TEXT",
    "StaffKey",
    "staff_with_groups",
]

StaffKey = tuple["UUID", "UUID"]  # (practice, account)

# The memberships part joins as ``groups._groups_of`` does, and both put the groups in order
# with ``groups_in_order`` (a test holds the answers equal): with ORDER BY, SQLite sorted every
# read by id in a temporary B-tree, though most users are in one group or none.
_WITH_GROUPS = (
    "SELECT u.*, g.id AS member_of_id, g.display_name AS member_of_name, "
    "g.display_name_key AS member_of_key FROM staff_user u "
    "LEFT JOIN group_member m ON m.practice_id = u.practice_id AND m.staff_id = u.id "
    "LEFT JOIN scim_group g ON g.id = m.group_id WHERE "
)
BY_ID_WITH_GROUPS_TEXT = f"{_WITH_GROUPS}u.practice_id = {{}} AND u.id = {{}}"
BY_ID_WITH_GROUPS = Statement.of(BY_ID_WITH_GROUPS_TEXT)
# The account a ``userName eq`` filter finds (the key is unique per practice), with the
# conditions the filter's list statement puts on it: listed (``listed_accounts``) and its
# userName present.
BY_USER_NAME_WITH_GROUPS_TEXT = (
    f"{_WITH_GROUPS}u.practice_id = {{}} AND u.user_name_key = {{}} "
    "AND u.scim_provisioned = TRUE AND u.scim_deleted = FALSE "
    "AND u.user_name IS NOT NULL AND u.user_name <> ''"
)
BY_USER_NAME_WITH_GROUPS = Statement.of(BY_USER_NAME_WITH_GROUPS_TEXT)


def _by_keys(columns: tuple[str, ...]) -> Statement:
    """The batch read of ``columns`` (what ``staff_from_row`` reads, from the table of kept
    attributes, so a kept attribute cannot be missing here); the password hash only as
    present."""
    selected = ", ".join(
        "u.password_hash IS NOT NULL" if name == "password_hash" else f"u.{name}"
        for name in columns
    )
    return Statement.of(
        "WITH k(practice_id, id) AS ("  # noqa: S608 - column names from the attribute table, keys bound
        "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each({})) "
        f"SELECT json_group_array(json_array({selected}, "
        "g.id, g.display_name, g.display_name_key)) AS found "
        "FROM k JOIN staff_user u ON u.practice_id = k.practice_id AND u.id = k.id "
        "LEFT JOIN group_member m ON m.practice_id = u.practice_id AND m.staff_id = u.id "
        "LEFT JOIN scim_group g ON g.id = m.group_id"
    )


_by_keys_cached = functools.cache(_by_keys)


async def staff_with_groups(
    direct: DirectSql, keys: Sequence[StaffKey]
) -> dict[StaffKey, Sequence[ColumnRow]]:
    """Per key found, its rows as the single read by id has them: the account's columns and
    one group's (``member_of_*``, None for an account in none) per row. One key alone is
    read with that statement, which costs less than building and parsing JSON."""
    if len(keys) == 1:
        [(practice_id, user_id)] = keys
        arg = direct.argument
        rows = await direct.fetch(BY_ID_WITH_GROUPS, arg(practice_id), arg(user_id))
        return {keys[0]: rows} if rows else {}
    by_text = {
        (str(practice_id), str(user_id)): (practice_id, user_id) for practice_id, user_id in keys
    }
    columns = staff_columns()
    names = (*columns, "member_of_id", "member_of_name", "member_of_key")
    rows = await direct.fetch(_by_keys_cached(columns), json.dumps(list(by_text)))
    found: dict[StaffKey, list[ColumnRow]] = {}
    for values in json.loads(rows[0]["found"]):
        row = dict(zip(names, values, strict=True))
        row["password_hash"] = True if row["password_hash"] else None
        key = by_text[(row["practice_id"], row["id"])]
        found.setdefault(key, []).append(row)
    return dict(found)
