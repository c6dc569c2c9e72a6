"""``scim_activity``: the provisioning activity log, one row per SCIM request that reached a
practice (no bodies, tokens or secrets); its indexes come in m0108 (piccolo runs a
migration's raw SQL before its new tables)."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import Column
from piccolo.columns.column_types import UUID, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "scim activity log"


def _params(**overrides: Any) -> dict[str, Any]:
    return {
        "default": None,
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **overrides,
    }


_COLUMNS: list[tuple[str, type[Column], dict[str, Any]]] = [
    ("id", UUID, _params(default=UUID4(), primary_key=True)),
    ("practice_id", UUID, _params(default=UUID4())),
    ("at", Timestamptz, _params(default=TimestamptzNow())),
    ("request_id", Varchar, _params(length=64, default="")),
    ("method", Varchar, _params(length=8, default="")),
    ("route", Varchar, _params(length=200, default="")),
    ("operation", Varchar, _params(length=32, default="")),
    ("status", Integer, _params(default=0)),
    ("credential", Varchar, _params(length=16, default="")),
    ("credential_label", Varchar, _params(length=64, default="")),
    ("user_agent", Varchar, _params(length=256, default="")),
    ("scim_type", Varchar, _params(length=32, null=True)),
    ("detail", Text, _params(null=True)),
    ("explanation", Text, _params(null=True)),
    ("resource_type", Varchar, _params(length=16, null=True)),
    ("resource_id", Varchar, _params(length=64, null=True)),
    ("resource_name", Varchar, _params(length=256, null=True)),
    ("attributes", Text, _params(default="")),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scimlab", description=DESCRIPTION)
    manager.add_table(class_name="ActivityTable", tablename="scim_activity", schema=None)
    for name, column_class, params in _COLUMNS:
        manager.add_column(
            table_class_name="ActivityTable",
            tablename="scim_activity",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )

    return manager
