"""Rows to domain records and back, explicitly (no ORM objects leave this package)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from piccolo.columns import Boolean, Column, Text, Varchar

from server.domain.practices import AccessToken, AuditEntry, Practice, ScimConfig, TokenKind
from server.domain.staff import AccessLevel, StaffProfile, StaffUser
from server.domain.text import text_key
from server.domain.user_attributes import USER_ATTRIBUTES, UserAttribute, ValueKind

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from server.persistence.fixed_statements import ColumnRow

__all__ = [
    "as_utc",
    "as_uuid",
    "audit_from_row",
    "groups_in_order",
    "practice_from_row",
    "scim_config_from_row",
    "scim_config_to_row",
    "sql_uuid",
    "staff_columns",
    "staff_from_row",
    "staff_from_values",
    "staff_to_row",
    "token_from_row",
    "undeclared_columns",
]


def as_uuid(value: Any) -> UUID:
    """SQLite hands UUIDs back as text; PostgreSQL as UUID objects."""
    if isinstance(value, UUID):
        return value
    return UUID(value if isinstance(value, str) else str(value))


def groups_in_order(members: list[tuple[str | None, UUID, str]]) -> list[tuple[UUID, str]]:
    """A user's groups, given as (display name key, id, displayName), as (id, displayName) by
    key, then id: put in order here, not by SQL, so the order is one on either database
    whatever its collation (a canonical id's text sorts as its number)."""
    if len(members) > 1:
        members.sort(key=lambda member: (member[0] or "", member[1]))
    return [(group_id, name) for _, group_id, name in members]


def sql_uuid(table: Any, value: UUID) -> UUID | str:
    """A UUID as a raw-SQL argument: SQLite keeps UUID columns as text, PostgreSQL as uuid."""
    return str(value) if table._meta.db.engine_type == "sqlite" else value


def as_utc(value: Any) -> datetime:
    """SQLite hands instants back as text; both may lack a zone for UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _folded(value: str | None) -> str | None:
    return None if value is None else text_key(value)


def practice_from_row(row: ColumnRow) -> Practice:
    return Practice(id=as_uuid(row["id"]), name=row["name"], created_at=as_utc(row["created_at"]))


def scim_config_from_row(row: ColumnRow) -> ScimConfig:
    return ScimConfig(
        practice_id=as_uuid(row["practice_id"]),
        client_id=row["client_id"],
        secret_hash=row["secret_hash"],
        secret_hint=row["secret_hint"],
        credential_id=as_uuid(row["credential_id"]),
        enabled=bool(row["enabled"]),
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
    )


def scim_config_to_row(config: ScimConfig) -> dict[str, Any]:
    return {
        "practice_id": config.practice_id,
        "client_id": config.client_id,
        "secret_hash": config.secret_hash,
        "secret_hint": config.secret_hint,
        "credential_id": config.credential_id,
        "enabled": config.enabled,
        "created_at": config.created_at,
        "updated_at": config.updated_at,
    }


def token_from_row(row: ColumnRow) -> AccessToken:
    expires_at = row["expires_at"]
    return AccessToken(
        id=as_uuid(row["id"]),
        practice_id=as_uuid(row["practice_id"]),
        kind=TokenKind(row["kind"]),
        credential_id=as_uuid(row["credential_id"]),
        expires_at=None if expires_at is None else as_utc(expires_at),
        created_at=as_utc(row["created_at"]),
        hint=row["hint"],
    )


def audit_from_row(row: ColumnRow) -> AuditEntry:
    return AuditEntry(
        practice_id=as_uuid(row["practice_id"]),
        actor=row["actor"],
        action=row["action"],
        detail=row["detail"],
        created_at=as_utc(row["created_at"]),
        address=row["address"],
    )


_ACCESS_LEVELS = {level.value: level for level in AccessLevel}

# The account's columns that are not kept User attributes ("password_hash" is read only as
# present or not).
_ACCOUNT_COLUMNS = (
    "id",
    "practice_id",
    "access_level",
    "is_practice_admin",
    "scim_provisioned",
    "scim_deleted",
    "sso_issuer",
    "sso_subject",
    "password_hash",
    "version",
    "created_at",
    "updated_at",
)


def _staff_columns(attributes: tuple[UserAttribute, ...]) -> tuple[str, ...]:
    return (*_ACCOUNT_COLUMNS, *(a.column for a in attributes))


def staff_columns() -> tuple[str, ...]:
    """Every column ``staff_from_row`` reads, from the table of kept attributes."""
    return USER_ATTRIBUTES.derived(_staff_columns)


def _profile_reader(
    attributes: tuple[UserAttribute, ...],
) -> tuple[tuple[str, ...], tuple[int, ...], int]:
    """The kept attributes' fields, the positions (among them) of the boolean ones, and
    where the account's values end, in the order of ``staff_columns``."""
    fields = tuple(a.field for a in attributes)
    booleans = tuple(i for i, a in enumerate(attributes) if a.kind is ValueKind.BOOLEAN)
    return fields, booleans, len(_ACCOUNT_COLUMNS) + len(fields)


def staff_from_values(values: Sequence[Any], practice_id: UUID | None = None) -> StaffUser:
    """An account from its columns' values in the order of ``staff_columns`` (more may
    follow, ignored): a row selected in that order is read by position, which costs less
    than by name for every account of a page. ``practice_id``: the practice the row was
    read for (its WHERE clause), when known, saves parsing it back from the row."""
    fields, booleans, end = USER_ATTRIBUTES.derived(_profile_reader)
    (
        user_id,
        practice,
        access_level,
        is_practice_admin,
        scim_provisioned,
        scim_deleted,
        sso_issuer,
        sso_subject,
        password_hash,
        version,
        created_at,
        updated_at,
        *kept,
    ) = values[:end]
    for position in booleans:  # SQLite hands booleans back as 0 and 1
        kept[position] = bool(kept[position])
    return StaffUser(
        id=as_uuid(user_id),
        practice_id=as_uuid(practice) if practice_id is None else practice_id,
        profile=StaffProfile.of(dict(zip(fields, kept, strict=True))),
        access_level=_ACCESS_LEVELS[access_level],
        is_practice_admin=bool(is_practice_admin),
        scim_provisioned=bool(scim_provisioned),
        scim_deleted=bool(scim_deleted),
        sso_issuer=sso_issuer,
        sso_subject=sso_subject,
        has_password=password_hash is not None,
        version=int(version),
        created_at=as_utc(created_at),
        updated_at=as_utc(updated_at),
    )


def staff_from_row(row: ColumnRow, practice_id: UUID | None = None) -> StaffUser:
    """An account from a row read by column name (``staff_from_values``)."""
    return staff_from_values([row[column] for column in staff_columns()], practice_id)


def _profile_writes(
    attributes: tuple[UserAttribute, ...],
) -> tuple[tuple[Callable[[StaffProfile], Any], str, str | None, bool], ...]:
    """(field's getter, column, key column, key released on delete) per kept attribute."""
    return tuple(
        (StaffProfile.getter(a.field), a.column, a.key_column, a.released_on_delete)
        for a in attributes
    )


def undeclared_columns(table: Any) -> dict[str, Column]:
    """Columns of kept User attributes that the piccolo ``table`` does not declare: an
    attribute added to the table of kept attributes, whose migration added the column. A
    test checks that every attribute kept by default is declared."""
    declared = {column._meta.db_column_name for column in table._meta.columns}
    columns: dict[str, Column] = {}
    for attribute in USER_ATTRIBUTES.attributes:
        if attribute.column not in declared:
            columns[attribute.column] = (
                Boolean(default=True)
                if attribute.kind is ValueKind.BOOLEAN
                else Varchar(length=attribute.max_length or 256, null=True, default=None)
            )
        if attribute.key_column is not None and attribute.key_column not in declared:
            columns[attribute.key_column] = Text(null=True, default=None)
    return columns


def staff_to_row(user: StaffUser) -> dict[str, Any]:
    """Every column a write may change. ``password_hash`` and ``api_key_hash`` are set only
    at creation, so a profile update can never touch them. A case-insensitive attribute's
    ``*_key`` column holds its ``text_key`` (userName's is unique per practice in that form,
    RFC 7643 §4.1.1, and released once SCIM deletes the account)."""
    profile = user.profile
    row: dict[str, Any] = {}
    for get, column, key_column, released in USER_ATTRIBUTES.derived(_profile_writes):
        value = get(profile)
        row[column] = value
        if key_column is not None:
            row[key_column] = None if released and user.scim_deleted else _folded(value)
    row.update(
        access_level=user.access_level.value,
        is_practice_admin=user.is_practice_admin,
        scim_provisioned=user.scim_provisioned,
        scim_deleted=user.scim_deleted,
        sso_issuer=user.sso_issuer,
        sso_subject=user.sso_subject,
        version=user.version,
        updated_at=user.updated_at,
    )
    return row
