"""piccolo implementations of the practice, SCIM configuration, token and audit repositories.
Every query names its practice (tokens are found by their hash, then checked against it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4

from server.domain.account_keys import UserNameKey
from server.domain.acting import ActingCredential
from server.domain.practices import TokenKind
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
from server.persistence.token_statements import (
    VALID_TOKEN,
    VALID_TOKEN_WITH_ACCOUNT,
    VALID_TOKEN_WITH_NAMED_ACCOUNT,
    VALID_TOKEN_WITH_SSO_CONFIG,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from uuid import UUID

    from server.domain.account_keys import AccountKey
    from server.domain.practices import (
        AccessToken,
        AuditEntry,
        AuditFilter,
        Practice,
        ScimConfig,
    )
    from server.persistence.tables import BoundTables

__all__ = [
    "AUDIT_INSERT",
    "AUDIT_ROW",
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


#: Tokens found valid that are remembered while nothing is committed.
_REMEMBERED_TOKENS = 10_000


class PiccoloTokenRepository:
    def __init__(self, tables: BoundTables, direct: DirectSql) -> None:
        self._table = tables.access_token
        self._config = tables.scim_config
        self._direct = direct
        # (token hash, practice) -> (expiry, credential) of a token found valid; see
        # credential_for.
        self._valid: SnapshotMemo[tuple[str, UUID], tuple[datetime | None, ActingCredential]] = (
            SnapshotMemo(_REMEMBERED_TOKENS)
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

    async def credential_for(
        self,
        token_hash: str,
        practice_id: UUID,
        now: datetime,
        *,
        account: AccountKey | None = None,
        sso_config: bool = False,
    ) -> ActingCredential | None:
        """One query on the hot path: the token joined to its practice's current, enabled
        credential, so a regenerated, disabled or deleted configuration refuses it at once;
        the credential named (an OAuth client by its client id, a static token by its hint),
        or None when the token does not act for the practice. ``account``: the account the
        request reads next, or ``sso_config``: the request reads the practice's SSO
        configuration next; the same statement reads it, and its rows wait for that read
        (:mod:`server.persistence.account_read_ahead`).

        On SQLite a token found valid is remembered (``SnapshotMemo``), and while nothing at
        all has been committed since, the query's answer cannot have changed: the token is
        taken as found (its expiry still checked), and the account is read on its own as
        cheaply. Only hashes are kept, and only what the database said."""
        account_read_ahead.forget()
        key = (token_hash, practice_id)
        stamp = self._direct.unchanged_since()
        remembered = self._valid.get(stamp, key)
        if remembered is not None:
            expires, credential = remembered
            return credential if expires is None or expires > now else None
        arg = self._direct.argument
        if account is None:
            statement = VALID_TOKEN_WITH_SSO_CONFIG if sso_config else VALID_TOKEN
            rows = await self._direct.fetch(statement, token_hash, arg(practice_id), True)
        else:
            statement, named_by = (
                (VALID_TOKEN_WITH_NAMED_ACCOUNT, account.key)
                if isinstance(account, UserNameKey)
                else (VALID_TOKEN_WITH_ACCOUNT, arg(account))
            )
            rows = await self._direct.fetch(
                statement, arg(practice_id), named_by, token_hash, arg(practice_id), True
            )
        if not rows:
            return None
        row = rows[0]
        expires_at = row["token_expires_at"]
        expires = None if expires_at is None else as_utc(expires_at)
        credential = (
            ActingCredential("static", row["token_hint"])
            if row["token_kind"] == TokenKind.STATIC
            else ActingCredential("oauth", row["token_client_id"])
        )
        self._valid.put(stamp, key, (expires, credential))
        if expires is not None and expires <= now:
            return None
        if account is not None:
            account_read_ahead.keep(practice_id, account, rows if row["id"] is not None else ())
        elif sso_config:
            found = rows if row["practice_id"] is not None else ()
            account_read_ahead.keep(practice_id, account_read_ahead.SSO_CONFIG, found)
        return credential

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


# One fixed INSERT per entry, run on the driver (prepared once per connection), in the
# transaction of the change it records, or in the change's own statement on PostgreSQL
# (``AUDIT_INSERT`` and ``AUDIT_ROW``: ``PiccoloStaffRepository``).
AUDIT_INSERT = (
    "INSERT INTO audit_event (id, practice_id, actor, action, detail, address, created_at)"
)
AUDIT_ROW = "{}, {}, {}, {}, {}, {}, {}"
_RECORD_AUDIT = Statement.of(f"{AUDIT_INSERT} VALUES ({AUDIT_ROW})")


class PiccoloAuditRepository:
    def __init__(
        self,
        tables: BoundTables,
        direct: DirectSql,
        client_address: Callable[[], str | None] = no_address,
    ) -> None:
        """``client_address``: the address of the request being handled (the app passes the
        edge's ``server.ops.context.current_client_address``)."""
        self._table = tables.audit_event
        self._direct = direct
        self._client_address = client_address

    async def record(self, entry: AuditEntry) -> None:
        """Recorded with the client address of the request being handled, so no service has
        to pass the request along (``entry.address`` is filled only when reading)."""
        await self._direct.fetch(_RECORD_AUDIT, *self.values(entry))

    def values(self, entry: AuditEntry) -> tuple[Any, ...]:
        """The values of ``AUDIT_ROW`` for a new entry, as ``record`` writes them."""
        arg = self._direct.argument
        return (
            arg(uuid4()),
            arg(entry.practice_id),
            entry.actor,
            entry.action,
            entry.detail,
            self._client_address(),
            entry.created_at,
        )

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
