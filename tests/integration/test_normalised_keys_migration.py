"""m0103 on rows written under the old casefolded keys: keys that can move to ``text_key``
do, rows that would collide keep theirs (no data changes) and are reported, in the log and by
``scimlab check-user-names``; on both databases."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from server.domain.groups import GroupProfile, GroupRecord
from server.domain.query import FieldTest, Operator, ResourceQuery
from server.persistence.migrations import piccolo_conf
from server.persistence.rekey import rekey
from server.persistence.tables import bind_tables
from tests.factories import MOMENT, scim_account

if TYPE_CHECKING:
    import pytest

    from server.persistence.store import PiccoloStore

M0103 = "server.persistence.migrations.piccolo_migrations.m0103_normalised_user_name_keys"
SCIMLAB = Path(sys.executable).parent / "scimlab"

# name -> (userName, email) as an identity provider sent them before m0103.
SEEDED = {
    "nfc": ("jos\u00e9", None),
    "nfd": ("jose\u0301", None),
    "fullwidth": ("\uff21\uff24\uff2d\uff29\uff2e\uff12", None),  # fullwidth ADMIN2, alone
    "dotted": ("\u0130stanbul", None),
    "plain": ("istanbul", None),
    "mail-wide": ("mail.wide", "\uff4d\uff41\uff49\uff4c@clinic.example"),
    "mail": ("mail", "mail@clinic.example"),
}


async def _seed(store: PiccoloStore, practice_id: UUID) -> dict[str, UUID]:
    """Accounts and a group as the casefold-only code left them: value and casefolded key."""
    table = bind_tables(store.engine).staff_user
    ids = {}
    for name, (user_name, email) in SEEDED.items():
        user = scim_account(f"seed-{uuid4().hex}", practice_id=practice_id)
        await store.staff.add(user)
        await (
            table.update(
                {
                    table.user_name: user_name,
                    table.user_name_key: user_name.casefold(),
                    table.email: email,
                    table.email_key: None if email is None else email.casefold(),
                }
            )
            .where(table.id == user.id)
            .run()
        )
        ids[name] = user.id
    group = GroupRecord(uuid4(), practice_id, GroupProfile("team"), 1, MOMENT, MOMENT)
    await store.groups.add(group)
    groups = bind_tables(store.engine).group
    await (
        groups.update({groups.display_name: "\uff34eam", groups.display_name_key: "\uff54eam"})
        .where(groups.id == group.id)
        .run()
    )
    ids["group"] = group.id
    return ids


async def _keys(store: PiccoloStore, ids: dict[str, UUID]) -> dict[str, tuple[Any, ...]]:
    tables = bind_tables(store.engine)
    staff, group = tables.staff_user, tables.group
    found = {}
    for name, row_id in ids.items():
        if name == "group":
            row = (
                await group.select(group.display_name, group.display_name_key)
                .where(group.id == row_id)
                .first()
                .run()
            )
        else:
            row = (
                await staff.select(
                    staff.user_name, staff.user_name_key, staff.email, staff.email_key
                )
                .where(staff.id == row_id)
                .first()
                .run()
            )
        assert row is not None
        found[name] = tuple(row.values())
    return found


async def _migrate(store: PiccoloStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run m0103's forwards as the migration runner does, against this test's database."""
    monkeypatch.setenv("PICCOLO_CONF", "server.persistence.migrations.piccolo_conf")
    monkeypatch.setattr(piccolo_conf, "DB", store.engine)
    manager = await importlib.import_module(M0103).forwards()
    await manager.run()


async def _check(database_url: str, *args: str) -> tuple[int, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMLAB_")}
    env |= {"SCIMLAB_DATABASE_URL": database_url, "SCIMLAB_PUBLIC_URL": "https://example.test"}
    process = await asyncio.create_subprocess_exec(
        str(SCIMLAB),
        "check-user-names",
        "--json",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None, stderr
    return process.returncode, json.loads(stdout)


def _mine(report: dict[str, Any], practice_id: UUID) -> set[tuple[str, frozenset[str]]]:
    return {
        (c["column"], frozenset(str(row[0]) for row in c["rows"]))
        for c in report["collisions"]
        if c["practice_id"] == str(practice_id)
    }


async def test_m0103_recomputes_keys_and_reports_collisions_without_changing_data(
    store: PiccoloStore,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    practice_id = uuid4()
    ids = await _seed(store, practice_id)
    before = await _keys(store, ids)

    with caplog.at_level(logging.WARNING, logger="scimlab.migrations"):
        await _migrate(store, monkeypatch)
    after = await _keys(store, ids)

    # Values stay exactly as sent; only the keys of rows in no collision move.
    assert {n: k[0::2] for n, k in after.items()} == {n: k[0::2] for n, k in before.items()}
    for name in ("nfc", "nfd", "dotted", "plain", "mail-wide", "mail"):
        assert after[name] == before[name], name
    assert after["fullwidth"][1] == "admin2"
    assert after["group"][1] == "team"

    warnings = [r.getMessage() for r in caplog.records if str(practice_id) in r.getMessage()]
    expected = [
        ("user_name", "nfc", "nfd"),
        ("user_name", "dotted", "plain"),
        ("email", "mail-wide", "mail"),
    ]
    for column, one, other in expected:
        assert any(
            m.startswith(f"{column} collision in practice {practice_id}")
            and str(ids[one]) in m
            and str(ids[other]) in m
            for m in warnings
        ), (column, warnings)
    assert len(warnings) == len(expected)

    # The recomputed key serves lookups in its new form.
    query = ResourceQuery(predicate=FieldTest("user_name", Operator.EQ, "admin2"))
    _, found = await store.staff.list_scim(practice_id, query)
    assert [u.id for u in found] == [ids["fullwidth"]]

    # Operators see the same collisions; exit status 1 while any is left.
    code, report = await _check(database_url)
    assert code == 1
    assert _mine(report, practice_id) == {
        ("user_name_key", frozenset({str(ids["nfc"]), str(ids["nfd"])})),
        ("user_name_key", frozenset({str(ids["dotted"]), str(ids["plain"])})),
        ("email_key", frozenset({str(ids["mail-wide"]), str(ids["mail"])})),
    }

    # Once the identity provider renames one of a pair, --fix moves the other's key.
    plain = await store.staff.get(practice_id, ids["plain"])
    assert plain is not None
    renamed = replace(plain, profile=replace(plain.profile, user_name="istanbul2"), version=2)
    await store.staff.update(renamed, expected_version=1)
    code, report = await _check(database_url, "--fix")
    assert ("user_name_key", frozenset({str(ids["dotted"]), str(ids["plain"])})) not in _mine(
        report, practice_id
    )
    assert (await _keys(store, {"dotted": ids["dotted"]}))["dotted"][1] == "istanbul"
    # Still held: the rows of the pairs nobody resolved.
    fixed = await _keys(store, ids)
    assert fixed["nfd"] == before["nfd"]
    assert fixed["mail-wide"] == before["mail-wide"]


async def _seed_raw(store: PiccoloStore, practice_id: UUID, user_name: str, key: str) -> UUID:
    """An account whose stored key is ``key``, whatever its userName (a stale key)."""
    table = bind_tables(store.engine).staff_user
    user = scim_account(f"seed-{uuid4().hex}", practice_id=practice_id)
    await store.staff.add(user)
    await (
        table.update({table.user_name: user_name, table.user_name_key: key})
        .where(table.id == user.id)
        .run()
    )
    return user.id


async def test_rekey_swaps_keys_and_holds_a_row_whose_new_key_a_held_row_keeps(
    store: PiccoloStore,
) -> None:
    practice_id = uuid4()
    # Two rows whose new keys are each other's old keys: written one by one, the first
    # update would meet the second's old key without the placeholder step.
    swap_d = await _seed_raw(store, practice_id, "\uff25\uff25", "zz")  # fullwidth EE
    swap_e = await _seed_raw(store, practice_id, "ZZ", "ee")
    # A collision (held, old keys kept), and a row whose new key is a held row's old key.
    held_a = await _seed_raw(store, practice_id, "jose\u0301", "carol")
    held_b = await _seed_raw(store, practice_id, "jos\u00e9", "jos\u00e9")
    blocked_c = await _seed_raw(store, practice_id, "Carol", "carol-old")

    report = await rekey(store.engine, apply=True)

    mine = [c for c in report.collisions if c.practice_id == practice_id]
    assert [(c.column, {row_id for row_id, _ in c.rows}) for c in mine] == [
        ("user_name_key", {held_a, held_b})
    ]
    ids = {"d": swap_d, "e": swap_e, "a": held_a, "b": held_b, "c": blocked_c}
    keys = {name: row[1] for name, row in (await _keys(store, ids)).items()}
    assert keys == {"d": "ee", "e": "zz", "a": "carol", "b": "jos\u00e9", "c": "carol-old"}
