"""The key columns move from casefold to ``text_key`` (NFKC, case folding, NFKC: see
``server.domain.text``), so NFC/NFD, fullwidth and dotted-I look-alikes of a userName, email
or group displayName are one key. Keys become ``text`` on PostgreSQL first: NFKC and folding
can make a key longer than its 256-character value. Existing rows are recomputed by
``server.persistence.rekey``; rows that would collide keep their old keys (no data changes)
and each collision is logged with its practice and row ids."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from server.persistence.rekey import log_collisions, rekey

ID = "2026-12-07T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "normalised userName, email and displayName keys"

_TEXT_COLUMNS = {
    "staff_user": (
        "user_name_key",
        "given_name_key",
        "family_name_key",
        "email_key",
        "sso_subject",
    ),
    "scim_group": ("display_name_key",),
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scimlab", description=DESCRIPTION)

    async def rekey_rows() -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type == "postgres":
            # varchar to text needs no table rewrite and keeps the indexes.
            for table, columns in _TEXT_COLUMNS.items():
                changes = ", ".join(f"ALTER COLUMN {c} TYPE text" for c in columns)
                await engine.run_ddl(f"ALTER TABLE {table} {changes}")
        log_collisions(await rekey(engine, apply=True))

    manager.add_raw(rekey_rows)
    return manager
