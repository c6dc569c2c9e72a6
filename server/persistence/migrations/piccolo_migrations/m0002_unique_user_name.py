"""userName is unique per practice, case-insensitively (RFC 7643 §4.1.1 uniqueness "server").

The index is on the casefolded key that the repository writes; both SQLite and PostgreSQL
treat NULL keys (SCIM-deleted accounts) as distinct, so a deleted name can be provisioned again.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-28T17:12:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique userName per practice"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scimlab", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE UNIQUE INDEX staff_user_practice_user_name_key "
            "ON staff_user (practice_id, user_name_key)"
        )
        await engine.run_ddl(
            "CREATE INDEX staff_user_practice_created ON staff_user (practice_id, created_at, id)"
        )

    manager.add_raw(create_index)
    return manager
