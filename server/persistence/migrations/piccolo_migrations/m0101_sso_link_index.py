"""SSO sign-in finds the account linked to an identity with one index lookup."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-28T18:11:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sso link index"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scimlab", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE INDEX staff_user_sso_link ON staff_user (practice_id, sso_subject)"
        )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX provider_practice_npi ON provider (practice_id, npi)"
        )

    manager.add_raw(create_index)
    return manager
