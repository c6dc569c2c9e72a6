"""The piccolo app that owns scimlab's tables and their migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from server.persistence.tables import (
    AccessTokenTable,
    AuditEventTable,
    PracticeTable,
    ScimConfigTable,
    StaffUserTable,
)

APP_CONFIG = AppConfig(
    app_name="scimlab",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        PracticeTable,
        ScimConfigTable,
        AccessTokenTable,
        StaffUserTable,
        AuditEventTable,
    ],
    migration_dependencies=[],
    commands=[],
)
