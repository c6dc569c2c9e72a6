"""``staff_user`` loses its index on ``practice_id`` alone: the four indexes that start with
``practice_id`` serve every lookup by practice, and each index is one more B-tree page that
every SCIM create writes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "drop the redundant staff_user practice_id index"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scimlab", description=DESCRIPTION)

    async def drop_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("DROP INDEX IF EXISTS staff_user_practice_id")

    manager.add_raw(drop_index)
    return manager
