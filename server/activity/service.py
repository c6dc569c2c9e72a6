"""Reading the activity log for people and programs: the one place that turns filters given
as text (API query, console form, CLI options) into an :class:`ActivityQuery`, and entries
into JSON-ready dicts and CSV rows, so the API, the console and the CLI say the same thing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from server.activity.records import (
    OPERATIONS,
    ActivityEntry,
    ActivityQuery,
    Outcome,
    decode_cursor,
    encode_cursor,
)
from server.domain.clock import iso_utc

if TYPE_CHECKING:
    from server.persistence.repositories.activity import PiccoloActivityLog

__all__ = [
    "CSV_COLUMNS",
    "ActivityPage",
    "FilterError",
    "as_csv",
    "as_dict",
    "parse_query",
    "read_page",
]

MAX_PAGE = 1000
MAX_EXPORT = 10_000
CSV_COLUMNS = (
    "at", "outcome", "operation", "method", "route", "status", "scim_type", "detail",
    "explanation", "resource_type", "resource_id", "resource_name", "attributes",
    "credential", "credential_label", "user_agent", "request_id", "id",
)  # fmt: skip


class FilterError(ValueError):
    """A filter that cannot be read; the message says which and why, for people."""


@dataclass(frozen=True, slots=True)
class ActivityPage:
    entries: list[ActivityEntry]
    next_cursor: str | None


def _moment(name: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        msg = f"{name} must be a date or time in ISO 8601 (2026-12-07 or 2026-12-07T18:00:00Z)"
        raise FilterError(msg) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_query(
    *,
    staff: str | None = None,
    outcome: str | None = None,
    operation: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    most: int = MAX_PAGE,
) -> ActivityQuery:
    """Filters as given by a person or a script; empty strings mean "any"."""
    try:
        staff_id = UUID(staff) if staff else None
    except ValueError:
        raise FilterError("staff must be a staff account's id") from None
    if outcome and outcome not in {o.value for o in Outcome}:
        raise FilterError("outcome must be succeeded or refused")
    if operation and operation not in OPERATIONS:
        raise FilterError(f"operation must be one of {', '.join(OPERATIONS)}")
    if not 1 <= limit <= most:
        raise FilterError(f"limit must be between 1 and {most}")
    try:
        after = decode_cursor(cursor) if cursor else None
    except ValueError as error:
        raise FilterError(str(error)) from None
    return ActivityQuery(
        staff=staff_id,
        outcome=Outcome(outcome) if outcome else None,
        operation=operation or None,
        since=_moment("since", since) if since else None,
        until=_moment("until", until) if until else None,
        after=after,
        limit=limit,
    )


async def read_page(
    log: PiccoloActivityLog, practice_id: UUID, query: ActivityQuery
) -> ActivityPage:
    """One page and the cursor of the next (None on the last page)."""
    entries = await log.list(practice_id, replace(query, limit=query.limit + 1))
    more = len(entries) > query.limit
    entries = entries[: query.limit]
    return ActivityPage(entries, encode_cursor(entries[-1]) if more and entries else None)


def as_dict(entry: ActivityEntry) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "at": iso_utc(entry.at),
        "outcome": entry.outcome.value,
        "operation": entry.operation,
        "method": entry.method,
        "route": entry.route,
        "status": entry.status,
        "scim_type": entry.scim_type,
        "detail": entry.detail,
        "explanation": entry.explanation,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "resource_name": entry.resource_name,
        "attributes": list(entry.attributes),
        "credential": entry.credential,
        "credential_label": entry.credential_label,
        "user_agent": entry.user_agent,
        "request_id": entry.request_id,
    }


def _cell(value: Any) -> Any:
    # A spreadsheet runs a cell that starts like a formula (OWASP "CSV injection"); the
    # User-Agent and error details are the identity provider's text.
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value


def as_csv(entries: list[ActivityEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        row = as_dict(entry)
        row["attributes"] = " ".join(entry.attributes)
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()
