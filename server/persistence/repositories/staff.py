"""piccolo implementations of the domain's repository protocols. Every query names its practice."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any
from uuid import UUID

from piccolo.querystring import QueryString

from server.domain.errors import UniquenessConflict, WriteConflict
from server.persistence import account_read_ahead
from server.persistence.errors import is_unique_violation, violated_column
from server.persistence.fixed_statements import ColumnRow, DirectSql, row_values
from server.persistence.rows import (
    as_uuid,
    groups_in_order,
    staff_from_row,
    staff_from_values,
    staff_to_row,
)
from server.persistence.sql_filters import cursor_condition, where
from server.persistence.sqlite.turn_batch import TurnBatch
from server.persistence.staff_batch import (
    BY_ID_WITH_GROUPS,
    BY_USER_NAME_WITH_GROUPS,
    StaffKey,
    staff_with_groups,
)
from server.persistence.staff_pages import (
    count_statement,
    listed_accounts,
    page_memberships,
    page_statement,
)
from server.persistence.staff_statements import (
    ADMINS_LOCKED,
    BY_ID,
    BY_ID_WITH_GROUPS_LOCKED,
    insert_audited,
    insert_statement,
    update_audited,
    update_statement,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from server.domain.account_keys import UserNameKey
    from server.domain.practices import AuditEntry
    from server.domain.query import ResourceQuery
    from server.domain.staff import StaffUser
    from server.persistence.repositories.practices import PiccoloAuditRepository
    from server.persistence.tables import BoundTables

__all__ = ["PiccoloStaffRepository"]


class PiccoloStaffRepository:
    def __init__(
        self, tables: BoundTables, direct: DirectSql, audit: PiccoloAuditRepository
    ) -> None:
        self._table = tables.staff_user
        self._direct = direct
        self._audit = audit
        # On SQLite, reads by id of one event-loop turn share one statement.
        self._by_ids: TurnBatch[StaffKey, Sequence[ColumnRow]] = TurnBatch(
            functools.partial(staff_with_groups, direct)
        )

    async def add(
        self,
        user: StaffUser,
        *,
        password_hash: str | None = None,
        api_key_hash: str | None = None,
        audit: AuditEntry | None = None,
    ) -> None:
        values: dict[str, Any] = {
            **staff_to_row(user),
            "id": self._direct.argument(user.id),
            "practice_id": self._direct.argument(user.practice_id),
            "created_at": user.created_at,
            "password_hash": password_hash,
            "api_key_hash": api_key_hash,
        }
        columns = tuple(values)
        # With its audit entry: one statement on PostgreSQL, a transaction on SQLite
        # (``server.persistence.staff_statements``).
        try:
            if audit is None:
                await self._direct.fetch(insert_statement(columns), *values.values())
            elif not self._direct.sqlite:
                entry = self._audit.values(audit)
                await self._direct.fetch(insert_audited(columns), *values.values(), *entry)
            else:
                async with self._direct.transaction():
                    await self._direct.fetch(insert_statement(columns), *values.values())
                    await self._audit.record(audit)
        except Exception as error:
            if is_unique_violation(error):
                raise _taken(user, error) from None
            raise

    async def add_many(self, users: list[StaffUser], *, batch: int = 500) -> None:
        """Bulk insert for seeding (load tests, benchmarks): one statement per batch."""
        arg = self._direct.argument
        for start in range(0, len(users), batch):
            rows = [
                {
                    **staff_to_row(u),
                    "id": arg(u.id),
                    "practice_id": arg(u.practice_id),
                    "created_at": u.created_at,
                    "password_hash": None,
                    "api_key_hash": None,
                }
                for u in users[start : start + batch]
            ]
            statement = insert_statement(tuple(rows[0]), len(rows))
            await self._direct.fetch(statement, *(v for row in rows for v in row.values()))

    async def get(self, practice_id: UUID, user_id: UUID) -> StaffUser | None:
        # A read by id is the hottest query: one fixed statement, not a query built per call.
        arg = self._direct.argument
        rows = await self._direct.fetch(BY_ID, arg(practice_id), arg(user_id))
        return staff_from_row(rows[0], practice_id) if rows else None

    async def get_with_groups(
        self, practice_id: UUID, user_id: UUID, *, lock: bool = False
    ) -> tuple[StaffUser, list[tuple[UUID, str]]] | None:
        """One statement: the account joined to its groups (on SQLite outside a transaction,
        one for all the reads of the event loop's turn: ``TurnBatch``). ``lock``: in a
        transaction, no other writer changes the account until it ends."""
        rows: Sequence[ColumnRow] | None = None
        if lock or self._direct.in_transaction:
            account_read_ahead.forget()  # a transaction reads what it may have written
        else:
            rows = account_read_ahead.take(practice_id, user_id)  # read with the token
        if rows is None:
            rows = await self._read_with_groups(practice_id, user_id, lock=lock)
        return _with_groups(rows, practice_id)

    async def find_with_groups(
        self, practice_id: UUID, user_name: UserNameKey
    ) -> tuple[StaffUser, list[tuple[UUID, str]]] | None:
        """The listed account (as ``list_scim`` lists them) whose userName has this key, with
        its groups as ``get_with_groups`` has them: one statement, or none when the token
        check read it (``account_read_ahead``)."""
        rows: Sequence[ColumnRow] | None = None
        if self._direct.in_transaction:
            account_read_ahead.forget()  # a transaction reads what it may have written
        else:
            rows = account_read_ahead.take(practice_id, user_name)  # read with the token
        if rows is None:
            practice = self._direct.argument(practice_id)
            rows = await self._direct.fetch(BY_USER_NAME_WITH_GROUPS, practice, user_name.key)
        return _with_groups(rows, practice_id)

    async def _read_with_groups(
        self, practice_id: UUID, user_id: UUID, *, lock: bool
    ) -> Sequence[ColumnRow] | None:
        arg = self._direct.argument
        if lock:
            if not self._direct.in_transaction:
                msg = "a locked read outside a transaction"
                raise RuntimeError(msg)
            return await self._direct.fetch(
                BY_ID_WITH_GROUPS_LOCKED, arg(practice_id), arg(user_id)
            )
        if self._direct.inline_reads:
            return await self._by_ids.get((practice_id, user_id))
        return await self._direct.fetch(BY_ID_WITH_GROUPS, arg(practice_id), arg(user_id))

    async def list_scim(
        self, practice_id: UUID, query: ResourceQuery
    ) -> tuple[int, list[StaffUser]]:
        total, page = await self.list_scim_with_groups(practice_id, query)
        return total, [user for user, _ in page]

    async def list_scim_with_groups(
        self, practice_id: UUID, query: ResourceQuery
    ) -> tuple[int, list[tuple[StaffUser, list[tuple[UUID, str]]]]]:
        condition = listed_accounts(self._direct.argument(practice_id))
        if query.predicate is not None:
            condition = QueryString(
                "{} AND ({})", condition, where(query.predicate, sqlite=self._direct.sqlite)
            )
        page_condition = condition
        position = cursor_condition(query, sqlite=self._direct.sqlite)
        if position is not None:
            page_condition = QueryString("{} AND {}", condition, position)
        # Both statements run on the driver (DirectSql): a lookup by userName is most of
        # an identity provider's traffic.
        rows = (
            await self._direct.fetch_query(
                page_statement(self._direct.sqlite, query, page_condition)
            )
            if query.limit > 0
            else []
        )
        # A page's row is the account's columns in order, then its groups (``page_statement``).
        page = []
        for row in rows:
            values = row_values(row)
            page.append((staff_from_values(values, practice_id), page_memberships(values[-1])))
        if query.known_total is not None:  # a cursor walk's later page: no COUNT
            return query.known_total, page
        # (After a cursor position the page says nothing of the rows before it.)
        if position is None and len(rows) < query.limit and (rows or query.offset == 0):
            # A short page is the last one, so it says how many match with no COUNT: a
            # lookup by userName (one match or none) is one statement.
            return query.offset + len(rows), page
        counted = await self._direct.fetch_query(count_statement(condition))
        return int(counted[0]["total"]), page

    async def lock_administrators(self, practice_id: UUID) -> list[StaffUser]:
        if not self._direct.in_transaction:
            msg = "a locked read outside a transaction"
            raise RuntimeError(msg)
        rows = await self._direct.fetch(ADMINS_LOCKED, self._direct.argument(practice_id))
        return [staff_from_row(row, practice_id) for row in rows]

    async def update(
        self, user: StaffUser, *, expected_version: int, audit: AuditEntry | None = None
    ) -> StaffUser:
        account_read_ahead.forget()
        row = staff_to_row(user)
        arg = self._direct.argument
        guarded = (*row.values(), arg(user.practice_id), arg(user.id), expected_version)
        try:  # with its audit entry as ``add`` writes one
            if audit is None:
                written = await self._direct.fetch(update_statement(tuple(row)), *guarded)
            elif not self._direct.sqlite:
                entry = self._audit.values(audit)
                written = await self._direct.fetch(update_audited(tuple(row)), *guarded, *entry)
            else:
                async with self._direct.transaction():
                    written = await self._direct.fetch(update_statement(tuple(row)), *guarded)
                    if written:
                        await self._audit.record(audit)
        except Exception as error:
            if is_unique_violation(error):
                raise _taken(user, error) from None
            raise
        if not written:
            msg = f"staff user {user.id} changed since version {expected_version}"
            raise WriteConflict(msg)
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


def _with_groups(
    rows: Sequence[ColumnRow] | None, practice_id: UUID
) -> tuple[StaffUser, list[tuple[UUID, str]]] | None:
    """An account and its groups from its rows (one per group; none: no such account)."""
    if not rows:
        return None
    members = [
        (row["member_of_key"], as_uuid(row["member_of_id"]), row["member_of_name"])
        for row in rows
        if row["member_of_id"] is not None
    ]
    return staff_from_row(rows[0], practice_id), groups_in_order(members)


def _taken(user: StaffUser, error: BaseException) -> UniquenessConflict:
    if violated_column(error, ("email",)):
        return UniquenessConflict(f"email {user.profile.email!r} is already in use")
    return UniquenessConflict(f"userName {user.profile.user_name!r} is already in use")
