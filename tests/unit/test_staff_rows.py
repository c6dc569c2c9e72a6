"""An account's columns read by name and by position give the account that was written."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from server.domain.staff import AccessLevel, StaffProfile, StaffUser
from server.persistence.rows import staff_columns, staff_from_row, staff_from_values, staff_to_row
from tests.factories import scim_account

USER = scim_account(
    StaffProfile(
        user_name="rows@example.org",
        given_name="Given",
        family_name="Family",
        cell_phone="+15550000000",
        email="rows@example.org",
        active=False,
        external_id="ext-7",
    ),
    practice_id=UUID(int=1),
    id=UUID(int=7),
    access_level=AccessLevel.PROVIDER,
    is_practice_admin=True,
    sso_issuer="https://idp.example.org",
    sso_subject="subject-7",
    has_password=True,
    version=4,
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    updated_at=datetime(2026, 2, 3, 4, 5, 6, 7, tzinfo=UTC),
)


def _stored(user: StaffUser) -> dict[str, object]:
    """The row as SQLite hands it back: text ids and instants, 0 and 1 for booleans."""
    row: dict[str, object] = {
        **staff_to_row(user),
        "id": str(user.id),
        "practice_id": str(user.practice_id),
        "password_hash": 1,
        "created_at": user.created_at.isoformat(sep=" "),
        "updated_at": user.updated_at.isoformat(sep=" "),
    }
    return {
        column: int(value) if isinstance(value, bool) else value
        for column, value in ((c, row[c]) for c in staff_columns())
    }


def test_an_account_read_by_name_or_by_position_is_the_account_written() -> None:
    row = _stored(USER)
    assert staff_from_row(row) == USER
    values = [*row.values(), "sort key", "[]"]  # a page's row: more columns follow
    assert staff_from_values(values) == USER
    assert staff_from_values(values, USER.practice_id) == USER
