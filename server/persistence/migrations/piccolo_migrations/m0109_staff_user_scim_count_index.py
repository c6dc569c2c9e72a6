"""``staff_user`` gains an index on ``(practice_id, scim_provisioned, scim_deleted)``: the
total of a SCIM user list (``COUNT(*)`` over a practice's provisioned, undeleted users) is
then read from this index alone, instead of visiting every row of the practice to check the
two flags. A plain index, not a partial one: the flags are bound as parameters, and neither
SQLite nor a PostgreSQL generic plan can match a partial index's predicate against those.

On PostgreSQL the index is built ``CONCURRENTLY`` (outside a transaction), so writes to
``staff_user`` go on while it is built; see docs/deployment.md for a build that fails.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "staff_user index that answers the SCIM list count"

_COLUMNS = "ON staff_user (practice_id, scim_provisioned, scim_deleted)"


async def forwards() -> MigrationManager:
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction block.
    manager = MigrationManager(
        migration_id=ID, app_name="scimlab", description=DESCRIPTION, wrap_in_transaction=False
    )

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        concurrently = "CONCURRENTLY " if engine.engine_type == "postgres" else ""
        await engine.run_ddl(
            f"CREATE INDEX {concurrently}IF NOT EXISTS staff_user_practice_scim_flags {_COLUMNS}"
        )

    manager.add_raw(create_index)
    return manager
