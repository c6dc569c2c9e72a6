"""The fixed texts of the staff repository (``PiccoloStaffRepository``): its locked reads, and
its writes of every column ``staff_to_row`` writes, from the table of kept attributes, built
once per set of columns."""

from __future__ import annotations

import functools

from server.persistence.fixed_statements import Statement
from server.persistence.repositories.practices import AUDIT_INSERT, AUDIT_ROW
from server.persistence.staff_batch import BY_ID_WITH_GROUPS

__all__ = [
    "ADMINS_LOCKED",
    "BY_ID",
    "BY_ID_WITH_GROUPS_LOCKED",
    "insert_audited",
    "insert_statement",
    "update_audited",
    "update_statement",
]

BY_ID = Statement.of("SELECT * FROM staff_user WHERE practice_id = {} AND id = {}")
# The same read, holding the account's row until the transaction ends (PostgreSQL; the
# outer-joined groups are not locked). NO KEY UPDATE is the lock PostgreSQL's own UPDATE of
# non-key columns takes, so a group membership written meanwhile (its foreign key takes KEY
# SHARE on the account) does not wait on it. A SQLite transaction here holds the database's
# write lock from BEGIN IMMEDIATE (``PiccoloStore.transaction``): the plain read is locked.
BY_ID_WITH_GROUPS_LOCKED = Statement(
    sqlite=BY_ID_WITH_GROUPS.sqlite,
    postgres=f"{BY_ID_WITH_GROUPS.postgres} FOR NO KEY UPDATE OF u",
)


# Every administrator of a practice, held until the transaction ends (PostgreSQL; a SQLite
# transaction already holds the write lock). A second role change waits here, then sees the
# accounts as the first one left them: READ COMMITTED re-reads a row it waited for.
ADMINS_LOCKED = Statement(
    sqlite="SELECT * FROM staff_user WHERE practice_id = ? AND is_practice_admin = 1",
    postgres="SELECT * FROM staff_user WHERE practice_id = $1 AND is_practice_admin "
    "ORDER BY id FOR NO KEY UPDATE",
)


def _update_text(columns: tuple[str, ...]) -> str:
    assignments = ", ".join(f"{column} = {{}}" for column in columns)
    return (
        f"UPDATE staff_user SET {assignments} "  # noqa: S608 - column names from staff_to_row
        "WHERE practice_id = {} AND id = {} AND version = {}"
    )


@functools.cache
def update_statement(columns: tuple[str, ...]) -> Statement:
    """Every written column of an account, guarded by the version that was read (built once,
    not as a piccolo query per call)."""
    return Statement.of(f"{_update_text(columns)} RETURNING id")


def _insert_text(columns: tuple[str, ...], rows: int = 1) -> str:
    row = f"({', '.join('{}' for _ in columns)})"
    return (
        f"INSERT INTO staff_user ({', '.join(columns)}) "  # noqa: S608 - column names from staff_to_row
        f"VALUES {', '.join(row for _ in range(rows))}"
    )


@functools.cache
def insert_statement(columns: tuple[str, ...], rows: int = 1) -> Statement:
    """A SCIM create: one fixed INSERT naming every column ``staff_to_row`` writes (from the
    table of kept attributes) and those set only at creation, run on the driver."""
    return Statement.of(_insert_text(columns, rows))


# A write with its audit entry as one statement on PostgreSQL: a data-modifying WITH is
# atomic as any statement, so it needs no BEGIN and COMMIT round trips, and when the write
# fails no entry is left. SQLite has no data-modifying WITH: there the write and the entry
# are two statements in one transaction, and these texts are never run.


@functools.cache
def insert_audited(columns: tuple[str, ...]) -> Statement:
    return Statement.of(
        f"WITH added AS ({_insert_text(columns)}) {AUDIT_INSERT} VALUES ({AUDIT_ROW})"
    )


@functools.cache
def update_audited(columns: tuple[str, ...]) -> Statement:
    """The guarded UPDATE with the entry written only if it wrote the row: no row back when
    the stored version moved on, and then nothing is written."""
    return Statement.of(
        f"WITH written AS ({_update_text(columns)} RETURNING id) "  # noqa: S608 - fixed text
        f"{AUDIT_INSERT} SELECT {AUDIT_ROW} FROM written RETURNING id"
    )
