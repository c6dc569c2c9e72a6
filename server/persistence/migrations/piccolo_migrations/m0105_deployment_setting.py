"""``deployment_setting``: facts about the deployment that every process reads from the
database, such as the public URL ``scimlab serve`` hands out (read by the command line)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T16:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "deployment settings"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scimlab", description=DESCRIPTION)

    async def create_table() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE TABLE IF NOT EXISTS deployment_setting "
            "(name VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)"
        )

    manager.add_raw(create_table)
    return manager
