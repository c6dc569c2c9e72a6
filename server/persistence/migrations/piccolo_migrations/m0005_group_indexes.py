"""Group displayName unique per practice, case-insensitively; one membership per user."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-28T17:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "group indexes"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scimlab", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE UNIQUE INDEX scim_group_practice_name_key "
            "ON scim_group (practice_id, display_name_key)"
        )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX group_member_group_staff ON group_member (group_id, staff_id)"
        )
        await engine.run_ddl(
            "CREATE INDEX scim_group_practice_created ON scim_group (practice_id, created_at, id)"
        )

    manager.add_raw(create_indexes)
    return manager
