"""piccolo repositories for locations and staff sessions. Every query names its practice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from server.domain.staff_admin import Location
from server.persistence.rows import as_utc, as_uuid

if TYPE_CHECKING:
    from collections.abc import Collection

    from server.persistence.tables import BoundTables

__all__ = ["PiccoloLocationRepository", "PiccoloSessionRepository"]


class PiccoloLocationRepository:
    def __init__(self, tables: BoundTables) -> None:
        self._table = tables.location
        self._assignments = tables.staff_location

    async def add(self, location: Location) -> None:
        table = self._table
        await table.insert(
            table(
                id=location.id,
                practice_id=location.practice_id,
                name=location.name,
                created_at=location.created_at,
            )
        ).run()

    async def list(self, practice_id: UUID) -> list[Location]:
        table = self._table
        rows = (
            await table.select()
            .where(table.practice_id == practice_id)
            .order_by(table.name, table.id)
            .run()
        )
        return [
            Location(
                as_uuid(r["id"]), as_uuid(r["practice_id"]), r["name"], as_utc(r["created_at"])
            )
            for r in rows
        ]

    async def assigned(
        self, practice_id: UUID, staff_ids: Collection[UUID]
    ) -> dict[UUID, tuple[UUID, ...]]:
        found: dict[UUID, list[UUID]] = {sid: [] for sid in staff_ids}
        if not staff_ids:
            return {}
        table = self._assignments
        rows = (
            await table.select(table.staff_id, table.location_id)
            .where((table.practice_id == practice_id) & table.staff_id.is_in(list(staff_ids)))
            .order_by(table.location_id)
            .run()
        )
        for row in rows:
            found[as_uuid(row["staff_id"])].append(as_uuid(row["location_id"]))
        return {sid: tuple(ids) for sid, ids in found.items()}

    async def assign(
        self, practice_id: UUID, staff_id: UUID, location_ids: tuple[UUID, ...]
    ) -> None:
        table = self._assignments
        await (
            table.delete()
            .where((table.practice_id == practice_id) & (table.staff_id == staff_id))
            .run()
        )
        if location_ids:
            rows = [
                table(id=uuid4(), practice_id=practice_id, staff_id=staff_id, location_id=lid)
                for lid in location_ids
            ]
            await table.insert(*rows).run()


class PiccoloSessionRepository:
    def __init__(self, tables: BoundTables) -> None:
        self._table = tables.staff_session
        self._staff = tables.staff_user

    async def add(
        self, practice_id: UUID, staff_id: UUID, token_hash: str, expires_at: datetime
    ) -> UUID:
        session_id = uuid4()
        table = self._table
        await table.insert(
            table(
                id=session_id,
                practice_id=practice_id,
                staff_id=staff_id,
                token_hash=token_hash,
                created_at=datetime.now(UTC),
                expires_at=expires_at,
            )
        ).run()
        return session_id

    async def find_active(self, token_hash: str, now: datetime) -> tuple[UUID, UUID] | None:
        table, staff = self._table, self._staff
        row = await table.select().where(table.token_hash == token_hash).first().run()
        if row is None or as_utc(row["expires_at"]) <= now:
            return None
        practice_id, staff_id = as_uuid(row["practice_id"]), as_uuid(row["staff_id"])
        account = (
            await staff.select(staff.active, staff.scim_deleted)
            .where((staff.practice_id == practice_id) & (staff.id == staff_id))
            .first()
            .run()
        )
        if account is None or not account["active"] or account["scim_deleted"]:
            return None
        return practice_id, staff_id

    async def revoke_for_user(self, practice_id: UUID, staff_id: UUID) -> int:
        table = self._table
        removed = (
            await table.delete()
            .where((table.practice_id == practice_id) & (table.staff_id == staff_id))
            .returning(table.id)
            .run()
        )
        return len(removed)
