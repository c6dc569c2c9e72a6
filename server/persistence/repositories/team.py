"""piccolo repositories for providers and the outbox of messages the platform would email."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from server.domain.errors import UniquenessConflict
from server.domain.recovery import OutboxMessage
from server.domain.team import Provider
from server.persistence.errors import is_unique_violation
from server.persistence.rows import as_utc, as_uuid

if TYPE_CHECKING:
    from server.persistence.tables import BoundTables

__all__ = ["PiccoloOutboxRepository", "PiccoloProviderRepository"]


class PiccoloProviderRepository:
    def __init__(self, tables: BoundTables) -> None:
        self._table = tables.provider

    async def add(self, provider: Provider) -> None:
        table = self._table
        row = table(
            id=provider.id,
            practice_id=provider.practice_id,
            staff_id=provider.staff_id,
            npi=provider.npi,
            specialty=provider.specialty,
            created_at=provider.created_at,
        )
        try:
            await table.insert(row).run()
        except Exception as error:
            if is_unique_violation(error):
                raise UniquenessConflict("this staff member or NPI is already enrolled") from None
            raise

    async def update(self, provider: Provider) -> bool:
        table = self._table
        try:
            changed = (
                await table.update({table.npi: provider.npi, table.specialty: provider.specialty})
                .where((table.practice_id == provider.practice_id) & (table.id == provider.id))
                .returning(table.id)
                .run()
            )
        except Exception as error:
            if is_unique_violation(error):
                raise UniquenessConflict("this NPI is already enrolled") from None
            raise
        return bool(changed)

    async def remove(self, practice_id: UUID, provider_id: UUID) -> bool:
        table = self._table
        removed = (
            await table.delete()
            .where((table.practice_id == practice_id) & (table.id == provider_id))
            .returning(table.id)
            .run()
        )
        return bool(removed)

    async def list(self, practice_id: UUID) -> list[Provider]:
        table = self._table
        rows = (
            await table.select()
            .where(table.practice_id == practice_id)
            .order_by(table.created_at)
            .run()
        )
        return [
            Provider(
                id=as_uuid(r["id"]),
                practice_id=as_uuid(r["practice_id"]),
                staff_id=as_uuid(r["staff_id"]),
                npi=r["npi"],
                specialty=r["specialty"],
                created_at=as_utc(r["created_at"]),
            )
            for r in rows
        ]


class PiccoloOutboxRepository:
    def __init__(self, tables: BoundTables) -> None:
        self._table = tables.outbox_message

    async def send(self, message: OutboxMessage) -> None:
        table = self._table
        row = table(
            id=uuid4(),
            practice_id=message.practice_id,
            recipient=message.recipient,
            subject=message.subject,
            body=message.body,
            created_at=message.created_at,
        )
        await table.insert(row).run()

    async def list(self, practice_id: UUID, *, limit: int) -> list[OutboxMessage]:
        table = self._table
        rows = (
            await table.select()
            .where(table.practice_id == practice_id)
            .order_by(table.created_at, ascending=False)
            .limit(limit)
            .run()
        )
        return [
            OutboxMessage(
                practice_id=as_uuid(r["practice_id"]),
                recipient=r["recipient"],
                subject=r["subject"],
                body=r["body"],
                created_at=as_utc(r["created_at"]),
            )
            for r in rows
        ]
