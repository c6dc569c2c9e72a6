"""The piccolo app that owns scimlab's tables and their migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from server.persistence.tables import (
    AccessTokenTable,
    AuditEventTable,
    GroupMemberTable,
    GroupTable,
    LocationTable,
    OutboxMessageTable,
    PracticeTable,
    ProviderTable,
    SamlAssertionTable,
    SamlSpKeyTable,
    ScimConfigTable,
    SignInFlowTable,
    SsoConfigTable,
    StaffLocationTable,
    StaffMfaTable,
    StaffSessionTable,
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
        GroupMemberTable,
        GroupTable,
        LocationTable,
        StaffLocationTable,
        StaffSessionTable,
        SsoConfigTable,
        SamlSpKeyTable,
        SamlAssertionTable,
        SignInFlowTable,
        StaffMfaTable,
        ProviderTable,
        OutboxMessageTable,
    ],
    migration_dependencies=[],
    commands=[],
)
