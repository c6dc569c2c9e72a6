"""A staff member is assigned to a location at most once."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-28T17:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "staff location unique"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scimlab", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE UNIQUE INDEX staff_location_staff_location "
            "ON staff_location (staff_id, location_id)"
        )

    manager.add_raw(create_index)
    return manager
