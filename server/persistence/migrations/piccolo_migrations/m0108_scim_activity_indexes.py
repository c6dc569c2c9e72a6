"""Indexes of ``scim_activity``: pages are read newest first per practice, and the retention
purge deletes by time alone."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T19:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "scim activity log indexes"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scimlab", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE INDEX IF NOT EXISTS scim_activity_practice_at "
            "ON scim_activity (practice_id, at, id)"
        )
        await engine.run_ddl("CREATE INDEX IF NOT EXISTS scim_activity_at ON scim_activity (at)")

    manager.add_raw(create_indexes)
    return manager
