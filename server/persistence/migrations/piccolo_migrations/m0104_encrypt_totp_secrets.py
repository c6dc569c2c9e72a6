"""TOTP secrets are kept encrypted (``fernet:<token>``, about 150 characters): ``staff_mfa``'s
``totp_secret`` becomes ``TEXT`` (PostgreSQL enforced the old 64; SQLite enforces no length).
Secrets already stored stay as they are, plaintext: the key is a setting, not known here, so
they are encrypted when next saved or by ``scimlab secret-key rotate``.

Also: audit entries record the client address of the request that caused them
(``audit_event.address``; null for command-line actions and older entries)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T16:04:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "encrypted totp secrets; audit address"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scimlab", description=DESCRIPTION)

    async def widen_and_add() -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type == "postgres":
            await engine.run_ddl("ALTER TABLE staff_mfa ALTER COLUMN totp_secret TYPE TEXT")
        await engine.run_ddl("ALTER TABLE audit_event ADD COLUMN address VARCHAR(64)")

    manager.add_raw(widen_and_add)
    return manager
