"""Recomputing the ``text_key`` columns of existing rows, without ever merging two accounts.

When the key function changes (m0103: casefold became ``server.domain.text.text_key``), rows
written before keep their old keys until recomputed here. Two rows of one practice whose new
keys would be equal on a unique column (userName, email, group displayName) are a collision:
their keys are left as they were, so the unique indexes still hold and no data changes, and
the collision is reported for an operator to resolve (``scimlab check-user-names``). Stored
values themselves are never touched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from piccolo.engine.sqlite import TransactionType

from server.domain.sso import LinkRule
from server.domain.text import text_key
from server.domain.user_attributes import USER_ATTRIBUTES
from server.persistence.rows import as_uuid, staff_from_row, staff_to_row
from server.persistence.tables import bind_tables

if TYPE_CHECKING:
    from uuid import UUID

    from piccolo.columns import Column
    from piccolo.engine.base import Engine

    from server.domain.user_attributes import UserAttribute
    from server.persistence.tables import GroupTable, StaffUserTable

__all__ = ["KeyCollision", "RekeyReport", "log_collisions", "rekey"]

logger = logging.getLogger("scimlab.migrations")

# The key columns with a unique index per practice (migrations m0002 and m0008).
_STAFF_UNIQUE = ("user_name_key", "email_key")
_GROUP_UNIQUE = ("display_name_key",)
_RULES = {rule.value: rule for rule in LinkRule}


def _staff_keys(attributes: tuple[UserAttribute, ...]) -> dict[str, str]:
    """Key column -> the value column it is the ``text_key`` of, for each kept attribute."""
    return {a.key_column: a.column for a in attributes if a.key_column is not None}


@dataclass(frozen=True, slots=True)
class KeyCollision:
    """Rows of one practice whose values share one ``text_key`` on a unique column."""

    table: str
    column: str
    practice_id: UUID
    key: str
    rows: tuple[tuple[UUID, str], ...]  # (id, the value as stored), by id


@dataclass(slots=True)
class RekeyReport:
    collisions: list[KeyCollision] = field(default_factory=list)
    changed: int = 0  # rows whose keys were (or, without apply, would be) recomputed
    held: int = 0  # rows left with their old keys because of a collision


@dataclass(slots=True)
class _Row:
    id: UUID
    practice_id: UUID
    values: dict[str, str | None]  # key column -> the value it is the key of
    old: dict[str, str | None]
    new: dict[str, str | None]


def _collisions(table: str, rows: list[_Row], unique: tuple[str, ...]) -> list[KeyCollision]:
    found = []
    for column in unique:
        groups: dict[tuple[UUID, str], list[_Row]] = {}
        for row in rows:
            key = row.new[column]
            if key is not None:
                groups.setdefault((row.practice_id, key), []).append(row)
        for (practice_id, key), members in groups.items():
            if len(members) > 1:
                shown = tuple(sorted((m.id, m.values[column] or "") for m in members))
                found.append(KeyCollision(table, column, practice_id, key, shown))
    return found


def _held(rows: list[_Row], unique: tuple[str, ...], collisions: list[KeyCollision]) -> set[UUID]:
    """The rows that keep their old keys: those in a collision, and (to a fixed point) any row
    whose new key would meet a kept old key. Old keys were unique, so this ends unique."""
    held = {row_id for collision in collisions for row_id, _ in collision.rows}
    grew = True
    while grew:
        grew = False
        for column in unique:
            seen: dict[tuple[UUID, str], set[UUID]] = {}
            for row in rows:
                key = row.old[column] if row.id in held else row.new[column]
                if key is not None:
                    seen.setdefault((row.practice_id, key), set()).add(row.id)
            for ids in seen.values():
                if len(ids) > 1 and not ids <= held:
                    held |= ids
                    grew = True
    return held


async def _write(
    table: type[StaffUserTable | GroupTable], changed: list[_Row], unique: tuple[str, ...]
) -> None:
    """Unique keys go to a placeholder first, so no row meets another's old key midway."""
    for row in changed:
        parked: dict[Column | str, Any] = {
            c: f"\ufffe{row.id}" for c in unique if row.old[c] != row.new[c]
        }
        if parked:
            await table.update(parked).where(table.id == row.id).run()
    for row in changed:
        update: dict[Column | str, Any] = {c: v for c, v in row.new.items() if row.old[c] != v}
        await table.update(update).where(table.id == row.id).run()


async def _staff_rows(tables: Any) -> list[_Row]:
    rules = {
        as_uuid(r["practice_id"]): _RULES[r["link_rule"]]
        for r in await tables.sso_config.select(
            tables.sso_config.practice_id, tables.sso_config.link_rule
        ).run()
        if r["link_rule"] in _RULES
    }
    staff_keys = USER_ATTRIBUTES.derived(_staff_keys)
    rows = []
    for r in await tables.staff_user.select().run():
        practice_id = as_uuid(r["practice_id"])
        # The keys a write of this account would store now: one definition (staff_to_row).
        written = staff_to_row(staff_from_row(r, practice_id))
        values = {key: r[value] for key, value in staff_keys.items()}
        old = {key: r[key] for key in staff_keys}
        new = {key: written[key] for key in staff_keys}
        # An SSO link subject is a key too, except under Okta's rule (compared exactly).
        subject, rule = r["sso_subject"], rules.get(practice_id)
        old["sso_subject"] = new["sso_subject"] = values["sso_subject"] = subject
        if subject is not None and rule is not None and rule is not LinkRule.OKTA_SUB:
            new["sso_subject"] = rule.normalise(subject)
        rows.append(_Row(as_uuid(r["id"]), practice_id, values, old, new))
    return rows


async def _group_rows(tables: Any) -> list[_Row]:
    table = tables.group
    rows = []
    for r in await table.select(
        table.id, table.practice_id, table.display_name, table.display_name_key
    ).run():
        old: dict[str, str | None] = {"display_name_key": r["display_name_key"]}
        new: dict[str, str | None] = {"display_name_key": text_key(r["display_name"])}
        values = {"display_name_key": r["display_name"]}
        rows.append(_Row(as_uuid(r["id"]), as_uuid(r["practice_id"]), values, old, new))
    return rows


async def rekey(engine: Engine[Any], *, apply: bool) -> RekeyReport:
    """Find the collisions and, with ``apply``, recompute every other row's keys in one
    transaction (joining the caller's, such as a migration's). Safe to run again: a row
    whose keys are current is not written, and a collision stays reported until resolved."""
    tables = bind_tables(engine)
    report = RekeyReport()
    # On SQLite the write lock is taken at BEGIN (as Store.transaction does), so a server
    # writing meanwhile queues instead of deadlocking with this read-then-write.
    kind = {"transaction_type": TransactionType.immediate} if engine.engine_type == "sqlite" else {}
    async with engine.transaction(**kind):
        for name, table, rows, unique in (
            ("staff_user", tables.staff_user, await _staff_rows(tables), _STAFF_UNIQUE),
            ("scim_group", tables.group, await _group_rows(tables), _GROUP_UNIQUE),
        ):
            collisions = _collisions(name, rows, unique)
            held = _held(rows, unique, collisions) if collisions else set()
            changed = [r for r in rows if r.id not in held and r.old != r.new]
            report.collisions.extend(collisions)
            report.held += len(held)
            report.changed += len(changed)
            if apply:
                await _write(table, changed, unique)
    return report


def log_collisions(report: RekeyReport) -> None:
    """One warning per collision, naming the practice and the rows (ids, never values)."""
    for collision in report.collisions:
        logger.warning(
            "%s collision in practice %s: %s rows %s share one normalised key and keep their "
            "old keys until all but one is renamed or removed (see scimlab check-user-names)",
            collision.column.removesuffix("_key"),
            collision.practice_id,
            collision.table,
            ", ".join(str(row_id) for row_id, _ in collision.rows),
        )
