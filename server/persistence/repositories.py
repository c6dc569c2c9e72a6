"""piccolo implementations of the domain's repository protocols. Every query names its practice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from piccolo.querystring import QueryString

from server.domain.errors import PreconditionFailed, UniquenessConflict
from server.persistence.errors import is_unique_violation, violated_column
from server.persistence.rows import (
    audit_from_row,
    practice_from_row,
    scim_config_from_row,
    scim_config_to_row,
    staff_from_row,
    staff_to_row,
    token_from_row,
)
from server.persistence.sql_filters import order_by, where

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

    from server.domain.practices import AccessToken, AuditEntry, Practice, ScimConfig
    from server.domain.query import ResourceQuery
    from server.domain.staff import StaffUser
    from server.persistence.tables import BoundTables

__all__ = [
    "PiccoloAuditRepository",
    "PiccoloPracticeRepository",
    "PiccoloScimConfigRepository",
    "PiccoloStaffRepository",
    "PiccoloTokenRepository",
]


class PiccoloPracticeRepository:
    def __init__(self, tables: BoundTables) -> None:
        self._table = tables.practice

    async def add(self, practice: Practice) -> None:
        row = self._table(id=practice.id, name=practice.name, created_at=practice.created_at)
        await self._table.insert(row).run()

    async def get(self, practice_id: UUID) -> Practice | None:
        row = await self._table.select().where(self._table.id == practice_id).first().run()
        return None if row is None else practice_from_row(row)


class PiccoloScimConfigRepository:
    def __init__(self, tables: BoundTables) -> None:
        self._table = tables.scim_config

    async def get(self, practice_id: UUID) -> ScimConfig | None:
        table = self._table
        row = await table.select().where(table.practice_id == practice_id).first().run()
        return None if row is None else scim_config_from_row(row)

    async def get_by_client_id(self, client_id: str) -> ScimConfig | None:
        table = self._table
        row = await table.select().where(table.client_id == client_id).first().run()
        return None if row is None else scim_config_from_row(row)

    async def save(self, config: ScimConfig) -> None:
        table = self._table
        values = scim_config_to_row(config)
        updated = (
            await table.update(values)  # type: ignore[arg-type]
            .where(table.practice_id == config.practice_id)
            .returning(table.id)
            .run()
        )
        if not updated:
            await table.insert(table(**values)).run()

    async def delete(self, practice_id: UUID) -> None:
        await self._table.delete().where(self._table.practice_id == practice_id).run()


class PiccoloTokenRepository:
    def __init__(self, tables: BoundTables) -> None:
        self._table = tables.access_token
        self._config = tables.scim_config

    async def add(self, token: AccessToken, token_hash: str) -> None:
        row = self._table(
            id=token.id,
            practice_id=token.practice_id,
            token_hash=token_hash,
            kind=token.kind.value,
            credential_id=token.credential_id,
            hint=token.hint,
            expires_at=token.expires_at,
            created_at=token.created_at,
        )
        await self._table.insert(row).run()

    async def find_valid(self, token_hash: str, now: datetime) -> AccessToken | None:
        """One query on the hot path: the token joined to its practice's current, enabled
        credential, so a regenerated, disabled or deleted configuration refuses it at once."""
        rows = await self._table.raw(
            "SELECT t.* FROM access_token t JOIN scim_config c "
            "ON c.practice_id = t.practice_id AND c.credential_id = t.credential_id "
            "WHERE t.token_hash = {} AND c.enabled = {}",
            token_hash,
            True,
        ).run()
        if not rows:
            return None
        token = token_from_row(rows[0])
        if token.expires_at is not None and token.expires_at <= now:
            return None
        return token

    async def revoke_all(self, practice_id: UUID) -> int:
        table = self._table
        removed = (
            await table.delete().where(table.practice_id == practice_id).returning(table.id).run()
        )
        return len(removed)

    async def revoke(self, practice_id: UUID, token_id: UUID) -> bool:
        table = self._table
        removed = (
            await table.delete()
            .where((table.practice_id == practice_id) & (table.id == token_id))
            .returning(table.id)
            .run()
        )
        return bool(removed)

    async def list_static(self, practice_id: UUID) -> list[AccessToken]:
        table = self._table
        rows = (
            await table.select()
            .where((table.practice_id == practice_id) & (table.kind == "static"))
            .order_by(table.created_at)
            .run()
        )
        return [token_from_row(row) for row in rows]


class PiccoloStaffRepository:
    def __init__(self, tables: BoundTables) -> None:
        self._table = tables.staff_user

    async def add(
        self,
        user: StaffUser,
        *,
        password_hash: str | None = None,
        api_key_hash: str | None = None,
    ) -> None:
        values: dict[str, Any] = {
            **staff_to_row(user),
            "id": user.id,
            "practice_id": user.practice_id,
            "created_at": user.created_at,
            "password_hash": password_hash,
            "api_key_hash": api_key_hash,
        }
        try:
            await self._table.insert(self._table(**values)).run()
        except Exception as error:
            if is_unique_violation(error):
                raise _taken(user, error) from None
            raise

    async def add_many(self, users: list[StaffUser], *, batch: int = 500) -> None:
        """Bulk insert for seeding (load tests, benchmarks): one statement per batch."""
        table = self._table
        for start in range(0, len(users), batch):
            rows = [
                table(
                    **staff_to_row(u),
                    id=u.id,
                    practice_id=u.practice_id,
                    created_at=u.created_at,
                    password_hash=None,
                    api_key_hash=None,
                )
                for u in users[start : start + batch]
            ]
            await table.insert(*rows).run()

    async def get(self, practice_id: UUID, user_id: UUID) -> StaffUser | None:
        table = self._table
        row = (
            await table.select()
            .where((table.practice_id == practice_id) & (table.id == user_id))
            .first()
            .run()
        )
        return None if row is None else staff_from_row(row)

    async def list_scim(
        self, practice_id: UUID, query: ResourceQuery
    ) -> tuple[int, list[StaffUser]]:
        table = self._table
        sqlite = table._meta.db.engine_type == "sqlite"
        condition = QueryString(
            "practice_id = {} AND scim_provisioned = {} AND scim_deleted = {}",
            str(practice_id) if sqlite else practice_id,
            True,
            False,
        )
        if query.predicate is not None:
            condition = QueryString("{} AND ({})", condition, where(query.predicate, sqlite=sqlite))
        counted = await table.raw(
            "SELECT COUNT(*) AS total FROM staff_user WHERE {}", condition
        ).run()
        total = int(counted[0]["total"])
        if query.limit <= 0 or query.offset >= total:
            return total, []
        ordering = order_by(query.sort_field, descending=query.descending)
        rows = await table.raw(
            f"SELECT * FROM staff_user WHERE {{}} ORDER BY {ordering} LIMIT {{}} OFFSET {{}}",  # noqa: S608 - ordering is built from a fixed column table
            condition,
            query.limit,
            query.offset,
        ).run()
        return total, [staff_from_row(row) for row in rows]

    async def update(self, user: StaffUser, *, expected_version: int) -> StaffUser:
        table = self._table
        try:
            written = (
                await table.update(staff_to_row(user))  # type: ignore[arg-type]
                .where(
                    (table.practice_id == user.practice_id)
                    & (table.id == user.id)
                    & (table.version == expected_version)
                )
                .returning(table.id)
                .run()
            )
        except Exception as error:
            if is_unique_violation(error):
                raise _taken(user, error) from None
            raise
        if not written:
            msg = f"staff user {user.id} changed since version {expected_version}"
            raise PreconditionFailed(msg)
        return user

    async def list_all(self, practice_id: UUID) -> list[StaffUser]:
        table = self._table
        rows = (
            await table.select()
            .where(table.practice_id == practice_id)
            .order_by(table.created_at)
            .order_by(table.id)
            .run()
        )
        return [staff_from_row(row) for row in rows]

    async def visible_ids(self, practice_id: UUID, user_ids: Collection[UUID]) -> set[UUID]:
        if not user_ids:
            return set()
        table = self._table
        rows = (
            await table.select(table.id)
            .where(
                (table.practice_id == practice_id)
                & table.id.is_in(list(user_ids))
                & (table.scim_provisioned == True)  # noqa: E712
                & (table.scim_deleted == False)  # noqa: E712
            )
            .run()
        )
        return {row["id"] if isinstance(row["id"], UUID) else UUID(str(row["id"])) for row in rows}

    async def find_admin_by_api_key(self, api_key_hash: str) -> StaffUser | None:
        table = self._table
        row = (
            await table.select()
            .where((table.api_key_hash == api_key_hash) & (table.is_practice_admin == True))  # noqa: E712
            .first()
            .run()
        )
        return None if row is None else staff_from_row(row)


def _taken(user: StaffUser, error: BaseException) -> UniquenessConflict:
    if violated_column(error, ("email",)):
        return UniquenessConflict(f"email {user.profile.email!r} is already in use")
    return UniquenessConflict(f"userName {user.profile.user_name!r} is already in use")


class PiccoloAuditRepository:
    def __init__(self, tables: BoundTables) -> None:
        self._table = tables.audit_event

    async def record(self, entry: AuditEntry) -> None:
        row = self._table(
            practice_id=entry.practice_id,
            actor=entry.actor,
            action=entry.action,
            detail=entry.detail,
            created_at=entry.created_at,
        )
        await self._table.insert(row).run()

    async def list(self, practice_id: UUID, *, limit: int) -> list[AuditEntry]:
        table = self._table
        rows = (
            await table.select()
            .where(table.practice_id == practice_id)
            .order_by(table.created_at, ascending=False)
            .limit(limit)
            .run()
        )
        return [audit_from_row(row) for row in rows]
