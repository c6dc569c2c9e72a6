"""piccolo implementation of the group repository. Every query names its practice."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from piccolo.querystring import QueryString

from server.domain.errors import UniquenessConflict, WriteConflict
from server.domain.groups import GroupProfile, GroupRecord
from server.domain.text import text_key
from server.persistence.errors import is_unique_violation
from server.persistence.fixed_statements import DirectSql, Statement
from server.persistence.rows import as_utc, as_uuid, groups_in_order, sql_uuid
from server.persistence.sql_filters import keyset, where

if TYPE_CHECKING:
    from collections.abc import Collection

    from server.domain.query import ResourceQuery
    from server.persistence.tables import BoundTables

__all__ = ["PiccoloGroupRepository"]


def _record(row: dict[str, Any], members: tuple[UUID, ...]) -> GroupRecord:
    return GroupRecord(
        id=as_uuid(row["id"]),
        practice_id=as_uuid(row["practice_id"]),
        profile=GroupProfile(row["display_name"], row["external_id"], members),
        version=int(row["version"]),
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
    )


def _values(group: GroupRecord) -> dict[str, Any]:
    return {
        "display_name": group.profile.display_name,
        "display_name_key": text_key(group.profile.display_name),
        "external_id": group.profile.external_id,
        "version": group.version,
        "updated_at": group.updated_at,
    }


def _conflict(group: GroupRecord) -> UniquenessConflict:
    name = group.profile.display_name
    return UniquenessConflict(f"displayName {name!r} is already in use in this practice")


@functools.cache
def _groups_of(users: int) -> Statement:
    """Memberships of ``users`` users (one statement per page size, built once)."""
    placeholders = ", ".join("{}" for _ in range(users))
    return Statement.of(
        "SELECT m.staff_id AS staff_id, g.id AS id, g.display_name AS display_name, "  # noqa: S608 - placeholders only
        "g.display_name_key AS display_name_key "
        "FROM group_member m JOIN scim_group g ON g.id = m.group_id "
        f"WHERE m.practice_id = {{}} AND m.staff_id IN ({placeholders})"
    )


class PiccoloGroupRepository:
    def __init__(self, tables: BoundTables, direct: DirectSql) -> None:
        self._direct = direct
        self._table = tables.group
        self._members = tables.group_member
        self._sqlite = direct.sqlite

    def _id(self, value: UUID) -> UUID | str:
        return sql_uuid(self._table, value)

    async def _write_members(self, group: GroupRecord) -> None:
        members = self._members
        await members.delete().where(members.group_id == group.id).run()
        if group.profile.member_ids:
            rows = [
                members(
                    id=uuid4(),
                    practice_id=group.practice_id,
                    group_id=group.id,
                    staff_id=staff_id,
                    position=position,
                )
                for position, staff_id in enumerate(group.profile.member_ids)
            ]
            await members.insert(*rows).run()

    async def _member_ids(self, group_ids: list[UUID]) -> dict[UUID, tuple[UUID, ...]]:
        if not group_ids:
            return {}
        members = self._members
        rows = (
            await members.select(members.group_id, members.staff_id)
            .where(members.group_id.is_in(group_ids))
            .order_by(members.position)
            .run()
        )
        found: dict[UUID, list[UUID]] = {gid: [] for gid in group_ids}
        for row in rows:
            found[as_uuid(row["group_id"])].append(as_uuid(row["staff_id"]))
        return {gid: tuple(ids) for gid, ids in found.items()}

    async def add(self, group: GroupRecord) -> None:
        values = {
            **_values(group),
            "id": group.id,
            "practice_id": group.practice_id,
            "created_at": group.created_at,
        }
        try:
            await self._table.insert(self._table(**values)).run()
        except Exception as error:
            if is_unique_violation(error):
                raise _conflict(group) from None
            raise
        await self._write_members(group)

    async def get(
        self, practice_id: UUID, group_id: UUID, *, with_members: bool, lock: bool = False
    ) -> GroupRecord | None:
        """``lock``: in a transaction, no other writer changes the group until it ends
        (PostgreSQL: the lock its own UPDATE takes; a SQLite transaction holds the database's
        write lock from BEGIN IMMEDIATE)."""
        if lock and not self._direct.in_transaction:
            msg = "a locked read outside a transaction"
            raise RuntimeError(msg)
        table = self._table
        select = table.select().where((table.practice_id == practice_id) & (table.id == group_id))
        if lock and not self._sqlite:
            select = select.lock_rows("NO KEY UPDATE")
        row = await select.first().run()
        if row is None:
            return None
        members = (await self._member_ids([group_id]))[group_id] if with_members else ()
        return _record(row, members)

    async def search(
        self, practice_id: UUID, query: ResourceQuery, *, with_members: bool
    ) -> tuple[int, list[GroupRecord]]:
        table = self._table
        condition = QueryString("practice_id = {}", self._id(practice_id))
        if query.predicate is not None:
            condition = QueryString(
                "{} AND ({})", condition, where(query.predicate, sqlite=self._sqlite)
            )
        total = query.known_total  # a cursor walk's later page: no COUNT
        if total is None:
            count_sql = "SELECT COUNT(*) AS total FROM scim_group WHERE {}"
            counted = await table.raw(count_sql, condition).run()
            total = int(counted[0]["total"])
            if query.limit <= 0 or query.offset >= total:
                return total, []
        position, ordering = keyset(query, sqlite=self._sqlite)
        if position is not None:
            condition = QueryString("{} AND {}", condition, position)
        rows = await table.raw(
            f"SELECT * FROM scim_group WHERE {{}} ORDER BY {ordering} LIMIT {{}} OFFSET {{}}",  # noqa: S608 - ordering comes from a fixed column table
            condition,
            query.limit,
            query.offset,
        ).run()
        ids = [as_uuid(row["id"]) for row in rows]
        members = await self._member_ids(ids) if with_members else {}
        return total, [
            _record(row, members.get(gid, ())) for row, gid in zip(rows, ids, strict=True)
        ]

    async def update(self, group: GroupRecord, *, expected_version: int) -> GroupRecord:
        table = self._table
        try:
            written = (
                await table.update(_values(group))  # type: ignore[arg-type]
                .where(
                    (table.practice_id == group.practice_id)
                    & (table.id == group.id)
                    & (table.version == expected_version)
                )
                .returning(table.id)
                .run()
            )
        except Exception as error:
            if is_unique_violation(error):
                raise _conflict(group) from None
            raise
        if not written:
            raise WriteConflict(f"group {group.id} changed since version {expected_version}")
        await self._write_members(group)
        return group

    async def delete(self, practice_id: UUID, group_id: UUID) -> None:
        table, members = self._table, self._members
        await (
            members.delete()
            .where((members.practice_id == practice_id) & (members.group_id == group_id))
            .run()
        )
        await (
            table.delete().where((table.practice_id == practice_id) & (table.id == group_id)).run()
        )

    async def of_users(
        self, practice_id: UUID, user_ids: Collection[UUID]
    ) -> dict[UUID, list[tuple[UUID, str]]]:
        found: dict[UUID, list[tuple[str | None, UUID, str]]] = {uid: [] for uid in user_ids}
        if user_ids:
            arg = self._direct.argument
            rows = await self._direct.fetch(
                _groups_of(len(user_ids)), arg(practice_id), *(arg(uid) for uid in user_ids)
            )
            for row in rows:
                member = (row["display_name_key"], as_uuid(row["id"]), row["display_name"])
                found[as_uuid(row["staff_id"])].append(member)
        return {uid: groups_in_order(members) for uid, members in found.items()}

    async def remove_member(self, practice_id: UUID, user_id: UUID) -> None:
        """Take a user out of every group, giving each group touched a new version."""
        await self._table.raw(
            "UPDATE scim_group SET version = version + 1, updated_at = {} "
            "WHERE practice_id = {} AND id IN "
            "(SELECT group_id FROM group_member WHERE practice_id = {} AND staff_id = {})",
            datetime.now(UTC).isoformat(sep=" ") if self._sqlite else datetime.now(UTC),
            self._id(practice_id),
            self._id(practice_id),
            self._id(user_id),
        ).run()
        members = self._members
        await (
            members.delete()
            .where((members.practice_id == practice_id) & (members.staff_id == user_id))
            .run()
        )
