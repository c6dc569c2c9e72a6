"""piccolo repositories for signing in: SSO configuration, credentials and links, and sign-in
flows (the TOTP and lockout state: ``server.persistence.repositories.mfa``). Every query names its
practice or a token hash."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from server.domain.signin import FlowKind, SignInFlow
from server.domain.sso import LinkRule, SsoConfig
from server.domain.text import text_key
from server.persistence import account_read_ahead
from server.persistence.fixed_statements import ColumnRow, DirectSql, Statement
from server.persistence.repositories.saml import saml_columns, saml_from_row
from server.persistence.rows import as_utc, as_uuid, staff_from_row

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from server.domain.staff import StaffUser
    from server.persistence.tables import BoundTables

__all__ = [
    "PiccoloCredentialRepository",
    "PiccoloFlowRepository",
    "PiccoloSsoConfigRepository",
]


_SSO_CONFIG = Statement.of("SELECT * FROM sso_config WHERE practice_id = {}")


class PiccoloSsoConfigRepository:
    def __init__(self, tables: BoundTables, direct: DirectSql) -> None:
        self._table = tables.sso_config
        self._direct = direct

    async def get(self, practice_id: UUID) -> SsoConfig | None:
        # Read on every SCIM create: with the token's check where it read it too, else one
        # fixed statement on the driver.
        rows: Sequence[ColumnRow] | None = None
        if self._direct.in_transaction:
            account_read_ahead.forget()  # a transaction reads what it may have written
        else:
            rows = account_read_ahead.take(practice_id, account_read_ahead.SSO_CONFIG)
        if rows is None:
            rows = await self._direct.fetch(_SSO_CONFIG, self._direct.argument(practice_id))
        if not rows:
            return None
        row = rows[0]
        return SsoConfig(
            practice_id=as_uuid(row["practice_id"]),
            issuer=row["issuer"],
            client_id=row["client_id"],
            client_secret=row["client_secret"],
            link_rule=LinkRule(row["link_rule"]),
            metadata_url=row["metadata_url"],
            created_at=as_utc(row["created_at"]),
            updated_at=as_utc(row["updated_at"]),
            **saml_from_row(row),
        )

    async def save(self, config: SsoConfig) -> None:
        table = self._table
        values: dict[str, Any] = {
            "issuer": config.issuer,
            "client_id": config.client_id,
            "client_secret": config.client_secret,
            "link_rule": config.link_rule.value,
            "metadata_url": config.metadata_url,
            "updated_at": config.updated_at,
            **saml_columns(config),
        }
        updated = (
            await table.update(values)  # type: ignore[arg-type]
            .where(table.practice_id == config.practice_id)
            .returning(table.id)
            .run()
        )
        if not updated:
            row = table(
                id=uuid4(),
                practice_id=config.practice_id,
                created_at=config.created_at,
                **values,
            )
            await table.insert(row).run()

    async def delete(self, practice_id: UUID) -> bool:
        table = self._table
        removed = (
            await table.delete().where(table.practice_id == practice_id).returning(table.id).run()
        )
        return bool(removed)


class PiccoloCredentialRepository:
    def __init__(self, tables: BoundTables) -> None:
        self._table = tables.staff_user

    async def find_by_user_name(
        self, practice_id: UUID, user_name: str
    ) -> tuple[StaffUser, str | None] | None:
        table = self._table
        row = (
            await table.select()
            .where(
                (table.practice_id == practice_id) & (table.user_name_key == text_key(user_name))
            )
            .first()
            .run()
        )
        return None if row is None else (staff_from_row(row), row["password_hash"])

    async def find_by_sso_link(
        self, practice_id: UUID, issuer: str, subject: str
    ) -> StaffUser | None:
        table = self._table
        row = (
            await table.select()
            .where(
                (table.practice_id == practice_id)
                & (table.sso_subject == subject)
                & (table.sso_issuer == issuer)
            )
            .order_by(table.scim_deleted)
            .order_by(table.active, ascending=False)
            .first()
            .run()
        )
        return None if row is None else staff_from_row(row)

    async def set_sso_link(
        self, practice_id: UUID, staff_id: UUID, issuer: str | None, subject: str | None
    ) -> None:
        table = self._table
        await (
            table.update({table.sso_issuer: issuer, table.sso_subject: subject})
            .where((table.practice_id == practice_id) & (table.id == staff_id))
            .run()
        )

    async def set_password(self, practice_id: UUID, staff_id: UUID, password_hash: str) -> None:
        table = self._table
        await (
            table.update({table.password_hash: password_hash})
            .where((table.practice_id == practice_id) & (table.id == staff_id))
            .run()
        )

    async def recently_provisioned(self, practice_id: UUID, *, limit: int) -> list[StaffUser]:
        table = self._table
        rows = (
            await table.select()
            .where((table.practice_id == practice_id) & (table.scim_provisioned == True))  # noqa: E712
            .order_by(table.updated_at, ascending=False)
            .limit(limit)
            .run()
        )
        return [staff_from_row(row) for row in rows]


class PiccoloFlowRepository:
    def __init__(self, tables: BoundTables) -> None:
        self._table = tables.sign_in_flow
        self._sessions = tables.staff_session

    async def add(self, flow: SignInFlow, token_hash: str) -> None:
        table = self._table
        await table.delete().where(table.expires_at < flow.created_at).run()
        row = table(
            id=uuid4(),
            practice_id=flow.practice_id,
            kind=flow.kind.value,
            token_hash=token_hash,
            staff_id=flow.staff_id,
            nonce=flow.nonce,
            code_verifier=flow.code_verifier,
            created_at=flow.created_at,
            expires_at=flow.expires_at,
        )
        await table.insert(row).run()

    async def get(self, token_hash: str, kind: FlowKind, now: datetime) -> SignInFlow | None:
        table = self._table
        row = (
            await table.select()
            .where((table.token_hash == token_hash) & (table.kind == kind.value))
            .first()
            .run()
        )
        if row is None or as_utc(row["expires_at"]) <= now:
            return None
        staff_id = row["staff_id"]
        return SignInFlow(
            kind=FlowKind(row["kind"]),
            practice_id=as_uuid(row["practice_id"]),
            staff_id=None if staff_id is None else as_uuid(staff_id),
            nonce=row["nonce"],
            code_verifier=row["code_verifier"],
            created_at=as_utc(row["created_at"]),
            expires_at=as_utc(row["expires_at"]),
        )

    async def remove(self, token_hash: str) -> bool:
        table = self._table
        removed = (
            await table.delete().where(table.token_hash == token_hash).returning(table.id).run()
        )
        return bool(removed)

    async def end_session(self, token_hash: str) -> None:
        sessions = self._sessions
        await sessions.delete().where(sessions.token_hash == token_hash).run()
