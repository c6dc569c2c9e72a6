"""The SQL text and row values of the activity log's fixed statements (the batch INSERT, the
recorder's per-batch lookups), kept apart from :mod:`server.persistence.repositories.activity`,
which runs them."""

from __future__ import annotations

import functools
from datetime import UTC
from typing import TYPE_CHECKING, Any
from uuid import UUID

from server.persistence.fixed_statements import Statement

if TYPE_CHECKING:
    from server.activity.records import ActivityEntry

__all__ = [
    "COLUMN_NAMES", "ActivityRow", "display_name", "in_statement", "insert_statement",
    "practices_and_tokens", "row_of", "sqlite_row", "uuid_or_none",
]  # fmt: skip


COLUMN_NAMES = (
    "id", "practice_id", "at", "request_id", "method", "route", "operation", "status",
    "credential", "credential_label", "user_agent", "scim_type", "detail", "explanation",
    "resource_type", "resource_id", "resource_name", "attributes",
)  # fmt: skip
_COLUMNS = ", ".join(COLUMN_NAMES)
_ROW = "(" + ", ".join("{}" for _ in COLUMN_NAMES) + ")"
_NULLABLE = frozenset(
    ("scim_type", "detail", "explanation", "resource_type", "resource_id", "resource_name")
)
_FIRST_NULLABLE, _AFTER_NULLABLE = COLUMN_NAMES.index("scim_type"), len(COLUMN_NAMES) - 1
assert set(COLUMN_NAMES[_FIRST_NULLABLE:_AFTER_NULLABLE]) == _NULLABLE
#: SQLite's row: its driver looks for an adapter for every value that is not text or a
#: number (a None's search fails through two attribute lookups), so the nullable text
#: columns take the integer 0 for NULL (``NULLIF``; no text equals an integer).
_SQLITE_ROW = "(" + ", ".join("NULLIF(?, 0)" if c in _NULLABLE else "?" for c in COLUMN_NAMES) + ")"

#: One entry as the INSERT takes it: the values of ``COLUMN_NAMES`` in order, attributes
#: comma-separated (names contain no commas).
ActivityRow = tuple[Any, ...]


def row_of(e: ActivityEntry) -> ActivityRow:
    return (
        e.id, e.practice_id, e.at, e.request_id, e.method, e.route, e.operation, e.status,
        e.credential, e.credential_label, e.user_agent, e.scim_type, e.detail, e.explanation,
        e.resource_type, e.resource_id, e.resource_name, ",".join(e.attributes),
    )  # fmt: skip


def sqlite_row(row: ActivityRow) -> ActivityRow:
    """A row as SQLite stores it: ids as text, the time as piccolo's adapter writes a
    ``Timestamptz`` (UTC, ``str`` of the datetime), so it sorts and reads like piccolo's rows;
    None as 0 (see ``_SQLITE_ROW``); the other values are already text or integers."""
    at = row[2].astimezone(UTC) if row[2].tzinfo is not None else row[2]
    nullable = [0 if v is None else v for v in row[_FIRST_NULLABLE:_AFTER_NULLABLE]]
    return (str(row[0]), str(row[1]), str(at), *row[3:_FIRST_NULLABLE], *nullable, row[-1])


@functools.lru_cache(maxsize=64)
def in_statement(head: str, count: int) -> Statement:
    """``head`` followed by ``IN (...)`` with ``count`` placeholders."""
    return Statement.of(f"{head} IN ({', '.join('{}' for _ in range(count))})")


@functools.cache
def insert_statement(count: int) -> Statement:
    """The INSERT of ``count`` rows; ``count`` is a power of two, so there are few texts and
    each is prepared once per connection (the driver's statement cache)."""
    head = f"INSERT INTO scim_activity ({_COLUMNS}) VALUES "  # noqa: S608 - fixed text, values bound
    postgres = Statement.of(head + ", ".join(_ROW for _ in range(count))).postgres
    return Statement(sqlite=head + ", ".join(_SQLITE_ROW for _ in range(count)), postgres=postgres)


@functools.lru_cache(maxsize=64)
def practices_and_tokens(practices: int, hashes: int) -> Statement:
    """The practices (with their client id) joined to the given tokens among theirs."""
    marks = ", ".join("{}" for _ in range(hashes))
    tokens = (
        f"LEFT JOIN access_token t ON t.practice_id = p.id AND t.token_hash IN ({marks}) "
        if hashes
        else ""
    )
    columns = (
        "t.token_hash AS token_hash, t.kind AS kind, t.hint AS hint"
        if hashes
        else ("NULL AS token_hash, NULL AS kind, NULL AS hint")
    )
    return in_statement(
        f"SELECT p.id AS id, c.client_id AS client_id, {columns} FROM practice p "  # noqa: S608 - fixed text, values bound
        f"LEFT JOIN scim_config c ON c.practice_id = p.id {tokens}WHERE p.id",
        practices,
    )


def uuid_or_none(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def display_name(given: str | None, family: str | None, user_name: str) -> str:
    return " ".join(part for part in (given, family) if part) or user_name
