"""What the activity log keeps per SCIM request, and how it is asked for (filters, cursor).

Plain data, no framework: the recorder builds :class:`ActivityEntry` values, the store keeps
them, and the console, the management API and the CLI read them back with an
:class:`ActivityQuery`. An entry never holds a body, a token or a secret: attribute names
only, a credential by its kind and masked label, an error's ``detail`` as the server sent it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

__all__ = [
    "OPERATIONS",
    "ActivityEntry",
    "ActivityQuery",
    "Outcome",
    "decode_cursor",
    "encode_cursor",
]

#: Operation codes and their labels, in the order the console lists them.
OPERATIONS = {
    "user.create": "Create user",
    "user.read": "Read user",
    "user.replace": "Replace user",
    "user.update": "Update user",
    "user.delete": "Delete user",
    "user.search": "Search users",
    "group.create": "Create group",
    "group.read": "Read group",
    "group.replace": "Replace group",
    "group.update": "Update group",
    "group.delete": "Delete group",
    "group.search": "Search groups",
    "search": "Search all",
    "discovery": "Discovery",
    "other": "Other",
}


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    """One SCIM request that reached a practice's endpoint.

    ``credential`` is ``oauth``, ``static``, ``basic`` or ``none``; ``credential_label`` names
    it for people (the last four characters of the client id or token hint, never more).
    ``resource_*`` is the account or group the request touched; ``attributes`` the names of
    the attributes it set (as the platform keeps them); ``explanation`` says in words what
    was wrong with a refused request.
    """

    id: UUID
    practice_id: UUID
    at: datetime
    request_id: str
    method: str
    route: str
    operation: str
    status: int
    credential: str
    credential_label: str
    user_agent: str
    scim_type: str | None = None
    detail: str | None = None
    explanation: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    resource_name: str | None = None
    attributes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def outcome(self) -> Outcome:
        return Outcome.SUCCEEDED if self.status < 400 else Outcome.REFUSED

    @property
    def operation_label(self) -> str:
        return OPERATIONS.get(self.operation, self.operation)


@dataclass(frozen=True, slots=True)
class ActivityQuery:
    """Filters (all optional, combined with AND) and one page, newest first.

    ``staff`` is a staff account's id; ``since`` is inclusive, ``until`` exclusive; ``after``
    is the (time, id) of the last entry of the previous page (see :func:`decode_cursor`)."""

    staff: UUID | None = None
    outcome: Outcome | None = None
    operation: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: tuple[datetime, UUID] | None = None
    limit: int = 50


def encode_cursor(entry: ActivityEntry) -> str:
    """An opaque cursor naming the position after ``entry``."""
    raw = f"{entry.at.isoformat()}|{entry.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The position a cursor names; ``ValueError`` for one this server did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, entry_id = raw.partition("|")
        moment = datetime.fromisoformat(at)
        return moment, UUID(entry_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("the cursor is not one this server gave out") from None
