"""The SCIM activity log (``scim_activity``, migration m0107): one row per SCIM request that
reached a practice, written in batches by :mod:`server.activity.recorder`.

Every query names its practice. The few reads the recorder makes per batch (which practices
exist with their client ids and the batch's tokens among theirs, who a group or a deleted
account is) are here too, each one statement for the whole batch, and the batch's one INSERT:
fixed text run on the driver through ``DirectSql`` (no piccolo query built per batch). The
other accounts' names are looked up when entries are read, one statement per page.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from itertools import chain
from typing import TYPE_CHECKING, Any
from uuid import UUID

from piccolo import columns
from piccolo.table import Table

from server.activity.records import ActivityEntry, ActivityQuery, Outcome
from server.domain.text import text_key
from server.persistence.repositories.activity_sql import (
    ActivityRow,
    display_name,
    in_statement,
    insert_statement,
    practices_and_tokens,
    row_of,
    sqlite_row,
    uuid_or_none,
)
from server.persistence.rows import as_utc, as_uuid
from server.persistence.store import PiccoloStore
from server.persistence.tables import bind_tables

if TYPE_CHECKING:
    import builtins
    from collections.abc import Collection, Sequence
    from datetime import datetime

    from piccolo.engine.base import Engine

    from server.persistence.fixed_statements import DirectSql

__all__ = ["ActivityRow", "ActivityTable", "PiccoloActivityLog", "activity_log_of"]


class ActivityTable(Table, tablename="scim_activity"):
    id = columns.UUID(primary_key=True)
    practice_id = columns.UUID()
    at = columns.Timestamptz()
    request_id = columns.Varchar(length=64)
    method = columns.Varchar(length=8)
    route = columns.Varchar(length=200)
    operation = columns.Varchar(length=32)
    status = columns.Integer()
    credential = columns.Varchar(length=16)
    credential_label = columns.Varchar(length=64)
    user_agent = columns.Varchar(length=256)
    scim_type = columns.Varchar(length=32, null=True, default=None)
    detail = columns.Text(null=True, default=None)
    explanation = columns.Text(null=True, default=None)
    resource_type = columns.Varchar(length=16, null=True, default=None)
    resource_id = columns.Varchar(length=64, null=True, default=None)
    resource_name = columns.Varchar(length=256, null=True, default=None)
    #: attribute names, comma-separated (names contain no commas)
    attributes = columns.Text(default="")


def _entry(row: dict[str, Any]) -> ActivityEntry:
    return ActivityEntry(
        id=as_uuid(row["id"]),
        practice_id=as_uuid(row["practice_id"]),
        at=as_utc(row["at"]),
        request_id=row["request_id"],
        method=row["method"],
        route=row["route"],
        operation=row["operation"],
        status=row["status"],
        credential=row["credential"],
        credential_label=row["credential_label"],
        user_agent=row["user_agent"],
        scim_type=row["scim_type"],
        detail=row["detail"],
        explanation=row["explanation"],
        resource_type=row["resource_type"],
        resource_id=row["resource_id"],
        resource_name=row["resource_name"],
        attributes=tuple(name for name in (row["attributes"] or "").split(",") if name),
    )


class PiccoloActivityLog:
    def __init__(self, engine: Engine[Any], direct: DirectSql) -> None:
        self._table: type[ActivityTable] = type(
            "BoundActivity", (ActivityTable,), {}, tablename="scim_activity", db=engine
        )
        self._tables = bind_tables(engine)
        self._direct = direct
        self._sqlite = engine.engine_type == "sqlite"

    async def add_many(self, entries: Sequence[ActivityEntry]) -> None:
        await self.add_rows([row_of(e) for e in entries])

    async def add_rows(self, rows: Sequence[ActivityRow]) -> None:
        """:data:`ActivityRow` values (ids as UUIDs or their text), bound as plain values: one
        multi-row INSERT per power of two in the count, all sent at once (on SQLite they share
        one commit)."""
        bound = [sqlite_row(row) for row in rows] if self._direct.sqlite else rows
        writes = []
        start, size = 0, 1 << max(len(rows).bit_length() - 1, 0)
        while start < len(rows):
            if len(rows) - start >= size:
                args = chain.from_iterable(bound[start : start + size])
                writes.append(self._direct.fetch(insert_statement(size), *args))
                start += size
            size >>= 1
        await asyncio.gather(*writes)

    async def list(self, practice_id: UUID, query: ActivityQuery) -> list[ActivityEntry]:
        """Newest first: (time, id) descending, from ``query.after`` on."""
        table = self._table
        where: Any = table.practice_id == practice_id
        if query.staff is not None:
            where &= (table.resource_type == "User") & (table.resource_id == str(query.staff))
        if query.outcome is Outcome.SUCCEEDED:
            where &= table.status < 400
        elif query.outcome is Outcome.REFUSED:
            where &= table.status >= 400
        if query.operation:
            where &= table.operation == query.operation
        if query.since is not None:
            where &= table.at >= query.since
        if query.until is not None:
            where &= table.at < query.until
        if query.after is not None:
            at, entry_id = query.after
            where &= (table.at < at) | ((table.at == at) & (table.id < entry_id))
        rows = (
            await table.select()
            .where(where)
            .order_by(table.at, ascending=False)
            .order_by(table.id, ascending=False)
            .limit(query.limit)
            .run()
        )
        return await self._named(practice_id, [_entry(row) for row in rows])

    async def _named(
        self, practice_id: UUID, entries: builtins.list[ActivityEntry]
    ) -> builtins.list[ActivityEntry]:
        """Entries with their account's display name: the recorder names only the accounts
        a request deleted, the others are named here (deleted accounts are kept, so resolve)."""
        wanted: dict[str, UUID] = {}
        for e in entries:
            unnamed = e.resource_type == "User" and e.resource_name is None and e.status < 400
            if unnamed and e.resource_id and (staff := uuid_or_none(e.resource_id)):
                wanted[e.resource_id] = staff
        if not wanted:
            return entries
        names = await self.staff_names(practice_id, set(wanted.values()))
        return [
            replace(e, resource_name=names[found][:256])
            if e.resource_id in wanted and (found := wanted[e.resource_id]) in names
            else e
            for e in entries
        ]

    async def get(self, practice_id: UUID, entry_id: UUID) -> ActivityEntry | None:
        table = self._table
        row = (
            await table.select()
            .where((table.practice_id == practice_id) & (table.id == entry_id))
            .first()
            .run()
        )
        return None if row is None else (await self._named(practice_id, [_entry(row)]))[0]

    async def purge(self, before: datetime) -> int:
        """Delete every practice's entries older than ``before``; how many went."""
        table = self._table
        gone = await table.delete().where(table.at < before).returning(table.id).run()
        return len(gone)

    # --- what the recorder looks up, once per batch -----------------------------------------

    async def practices(
        self, practice_ids: Collection[UUID], token_hashes: Collection[str]
    ) -> tuple[dict[UUID, str | None], dict[str, tuple[UUID, str, str]]]:
        """One statement: the practices among ``practice_ids`` that exist -> their SCIM client
        id (None for a practice that never enabled SCIM), and token hash -> (practice, kind,
        hint) for those of ``token_hashes`` that belong to one of these practices."""
        arg = self._direct.argument
        statement = practices_and_tokens(len(practice_ids), len(token_hashes))
        rows = await self._direct.fetch(statement, *token_hashes, *(arg(i) for i in practice_ids))
        clients: dict[UUID, str | None] = {}
        tokens: dict[str, tuple[UUID, str, str]] = {}
        for row in rows:
            practice = as_uuid(row["id"])
            clients[practice] = row["client_id"]
            if row["token_hash"] is not None:
                tokens[row["token_hash"]] = (practice, row["kind"], row["hint"])
        return clients, tokens

    async def staff_names(self, practice_id: UUID, staff_ids: Collection[UUID]) -> dict[UUID, str]:
        """Display names of a practice's accounts (deleted ones are kept, so they resolve)."""
        head = (
            "SELECT id, given_name, family_name, user_name FROM staff_user "
            "WHERE practice_id = {} AND id"
        )
        arg = self._direct.argument
        statement = in_statement(head, len(staff_ids))
        rows = await self._direct.fetch(statement, arg(practice_id), *(arg(i) for i in staff_ids))
        return {
            as_uuid(r["id"]): display_name(r["given_name"], r["family_name"], r["user_name"])
            for r in rows
        }

    async def group_names(self, practice_id: UUID, group_ids: Collection[UUID]) -> dict[UUID, str]:
        """displayName of a practice's groups that still exist."""
        head = "SELECT id, display_name FROM scim_group WHERE practice_id = {} AND id"
        arg = self._direct.argument
        statement = in_statement(head, len(group_ids))
        rows = await self._direct.fetch(statement, arg(practice_id), *(arg(i) for i in group_ids))
        return {as_uuid(r["id"]): r["display_name"] for r in rows}

    async def known_names(self, practice_id: UUID, ids: Collection[UUID]) -> dict[UUID, str]:
        """The last name the log itself recorded for each resource (a deleted group's)."""
        if not ids:
            return {}
        table = self._table
        rows = (
            await table.select(table.resource_id, table.resource_name)
            .where(
                (table.practice_id == practice_id)
                & table.resource_id.is_in([str(i) for i in ids])
                & table.resource_name.is_not_null()
            )
            .order_by(table.at)
            .run()
        )
        return {UUID(row["resource_id"]): row["resource_name"] for row in rows}

    async def holder(self, practice_id: UUID, column: str, value: str, key: str) -> str | None:
        """Who holds a userName or email (``key``: its ``text_key``) in the practice; an
        account SCIM deleted since (its key is cleared) is found by the value itself."""
        table = self._tables.staff_user
        found = table.user_name_key if column == "userName" else table.email_key
        kept = table.user_name if column == "userName" else table.email
        names = (table.given_name, table.family_name, table.user_name, kept)
        rows = (
            await table.select(*names)
            .where((table.practice_id == practice_id) & (found == key))
            .run()
        )
        if not rows:  # LIKE narrows, text_key decides (LIKE's wildcards and case rules differ)
            alike = kept.like(value) if self._sqlite else kept.ilike(value)  # LIKE: ASCII-blind
            close = found.is_null() & alike
            rows = (
                await table.select(*names)
                .where((table.practice_id == practice_id) & close)
                .limit(20)
                .run()
            )
            name = "user_name" if column == "userName" else "email"
            rows = [r for r in rows if r[name] and text_key(r[name]) == key]
        if not rows:
            return None
        return display_name(rows[0]["given_name"], rows[0]["family_name"], rows[0]["user_name"])


def activity_log_of(store: object) -> PiccoloActivityLog:
    """The activity log on the database of a ``PiccoloStore``."""
    if not isinstance(store, PiccoloStore):
        msg = f"the activity log needs a PiccoloStore, not {type(store).__name__}"
        raise TypeError(msg)
    return PiccoloActivityLog(store.engine, store.direct)
