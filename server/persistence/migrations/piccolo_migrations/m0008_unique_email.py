"""A work email belongs to one staff account per practice, case-insensitively: sign-in
through an identity provider that links by email (Google) must find exactly one account."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-28T18:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique email per practice"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scimlab", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE UNIQUE INDEX staff_user_practice_email_key ON staff_user (practice_id, email_key)"
        )

    manager.add_raw(create_index)
    return manager
