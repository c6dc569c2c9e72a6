"""piccolo implementations of the practice, SCIM configuration, token and audit repositories.
Every query names its practice (tokens are found by their hash, then checked against it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.persistence import account_read_ahead
from server.persistence.fixed_statements import DirectSql, Statement
from server.persistence.rows import (
    as_utc,
    audit_from_row,
    practice_from_row,
    scim_config_from_row,
    scim_config_to_row,
    token_from_row,
)
from server.persistence.sqlite.snapshot_memo import SnapshotMemo
from server.persistence.staff_batch import BY_ID_WITH_GROUPS_TEXT

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from uuid import UUID

    from server.domain.practices import (
        AccessToken,
        AuditEntry,
        AuditFilter,
        Practice,
        ScimConfig,
    )
    from server.persistence.tables import BoundTables

__all__ = [
    "PiccoloAuditRepository",
    "PiccoloPracticeRepository",
    "PiccoloScimConfigRepository",
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

    async def list_all(self) -> list[Practice]:
        table = self._table
        rows = await table.select().order_by(table.created_at).order_by(table.id).run()
        return [practice_from_row(row) for row in rows]


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


# Only the expiry comes back: the practice is matched in SQL, so no row is built per request.
_VALID_TOKEN = Statement.of(
    "SELECT t.expires_at FROM access_token t JOIN scim_config c "
    "ON c.practice_id = t.practice_id AND c.credential_id = t.credential_id "
    "WHERE t.token_hash = {} AND t.practice_id = {} AND c.enabled = {}"
)
# The same check with the account the request reads next, with its groups: no row when the
# token is not valid, else the account's rows (``BY_ID_WITH_GROUPS``'s columns), or one row
# of NULLs beside the expiry when there is no such account.
_VALID_TOKEN_WITH_ACCOUNT = Statement.of(
    "SELECT t.expires_at AS token_expires_at, a.* FROM access_token t JOIN scim_config c "  # noqa: S608 - fixed text
    "ON c.practice_id = t.practice_id AND c.credential_id = t.credential_id "
    f"LEFT JOIN ({BY_ID_WITH_GROUPS_TEXT}) a ON TRUE "
    "WHERE t.token_hash = {} AND t.practice_id = {} AND c.enabled = {}"
)


#: Tokens found valid that are remembered while nothing is committed.
_REMEMBERED_TOKENS = 10_000


class PiccoloTokenRepository:
    def __init__(self, tables: BoundTables, direct: DirectSql) -> None:
        self._table = tables.access_token
        self._config = tables.scim_config
        self._direct = direct
        # (token hash, practice) -> (expiry,) of a token found valid; see is_valid_for.
        self._valid: SnapshotMemo[tuple[str, UUID], tuple[datetime | None]] = SnapshotMemo(
            _REMEMBERED_TOKENS
        )

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

    async def is_valid_for(
        self, token_hash: str, practice_id: UUID, now: datetime, *, account: UUID | None = None
    ) -> bool:
        """One query on the hot path: the token joined to its practice's current, enabled
        credential, so a regenerated, disabled or deleted configuration refuses it at once.
        ``account``: the account the request reads next; the same statement reads it, and
        its rows wait for that read (:mod:`server.persistence.account_read_ahead`).

        On SQLite a token found valid is remembered (``SnapshotMemo``), and while nothing at
        all has been committed since, the query's answer cannot have changed: the token is
        taken as found (its expiry still checked), and the account is read on its own as
        cheaply. Only hashes are kept, and only what the database said."""
        account_read_ahead.forget()
        key = (token_hash, practice_id)
        stamp = self._direct.unchanged_since()
        remembered = self._valid.get(stamp, key)
        if remembered is not None:
            expires = remembered[0]
            return expires is None or expires > now
        arg = self._direct.argument
        if account is None:
            rows = await self._direct.fetch(_VALID_TOKEN, token_hash, arg(practice_id), True)
            expiry_column = "expires_at"
        else:
            rows = await self._direct.fetch(
                _VALID_TOKEN_WITH_ACCOUNT,
                arg(practice_id),
                arg(account),
                token_hash,
                arg(practice_id),
                True,
            )
            expiry_column = "token_expires_at"
        if not rows:
            return False
        expires_at = rows[0][expiry_column]
        expires = None if expires_at is None else as_utc(expires_at)
        self._valid.put(stamp, key, (expires,))
        valid = expires is None or expires > now
        if valid and account is not None:
            found = rows if rows[0]["id"] is not None else ()
            account_read_ahead.keep(practice_id, account, found)
        return valid

    async def kind_and_hint(self, token_hash: str, practice_id: UUID) -> tuple[str, str] | None:
        table = self._table
        rows = (
            await table.select(table.kind, table.hint)
            .where((table.token_hash == token_hash) & (table.practice_id == practice_id))
            .run()
        )
        return (rows[0]["kind"], rows[0]["hint"]) if rows else None

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


def no_address() -> str | None:
    """The client address outside any request (the CLI, tests): none."""
    return None


class PiccoloAuditRepository:
    def __init__(
        self, tables: BoundTables, client_address: Callable[[], str | None] = no_address
    ) -> None:
        """``client_address``: the address of the request being handled (the app passes the
        edge's ``server.ops.context.current_client_address``)."""
        self._table = tables.audit_event
        self._client_address = client_address

    async def record(self, entry: AuditEntry) -> None:
        """Recorded with the client address of the request being handled, so no service has
        to pass the request along (``entry.address`` is filled only when reading)."""
        row = self._table(
            practice_id=entry.practice_id,
            actor=entry.actor,
            action=entry.action,
            detail=entry.detail,
            address=self._client_address(),
            created_at=entry.created_at,
        )
        await self._table.insert(row).run()

    async def list(
        self,
        practice_id: UUID,
        *,
        limit: int,
        offset: int = 0,
        where: AuditFilter | None = None,
    ) -> list[AuditEntry]:
        table = self._table
        conditions: list[Any] = [table.practice_id == practice_id]
        if where is not None:
            if where.action_prefixes:
                any_action: Any = table.action.like(f"{where.action_prefixes[0]}%")
                for prefix in where.action_prefixes[1:]:
                    any_action = any_action | table.action.like(f"{prefix}%")
                conditions.append(any_action)
            if where.actor_prefix:
                conditions.append(table.actor.like(f"{where.actor_prefix}%"))
            if where.staff_id is not None:  # details name a staff member by id
                conditions.append(table.detail.like(f"%{where.staff_id}%"))
            if where.since is not None:
                conditions.append(table.created_at >= where.since)
            if where.until is not None:
                conditions.append(table.created_at < where.until)
        rows = (
            await table.select()
            .where(*conditions)
            .order_by(table.created_at, ascending=False)
            .limit(limit)
            .offset(offset)
            .run()
        )
        return [audit_from_row(row) for row in rows]
