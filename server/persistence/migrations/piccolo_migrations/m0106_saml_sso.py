"""SAML 2.0 single sign-on: the protocol choice and the SAML IdP on ``sso_config``, the
practices' SP key pairs and the assertion ids already used (replay)."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import Column
from piccolo.columns.column_types import UUID, Boolean, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T16:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "saml sso"


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


Columns = list[tuple[str, type[Column], dict[str, Any]]]

_SSO_CONFIG: Columns = [
    ("protocol", Varchar, _params(length=8, default="oidc")),
    ("saml_sso_url", Varchar, _params(length=1024, null=True)),
    ("saml_certificates", Text, _params(null=True)),
    ("saml_name_id_format", Varchar, _params(length=128, default="")),
    ("saml_idp_initiated", Boolean, _params(default=False)),
]
_SP_KEY: Columns = [
    ("id", UUID, _params(default=UUID4(), primary_key=True)),
    ("practice_id", UUID, _params(default=UUID4(), unique=True)),
    ("private_key", Text, _params(default="", secret=True)),
    ("certificate", Text, _params(default="")),
    ("created_at", Timestamptz, _params(default=TimestamptzNow())),
]
_ASSERTION: Columns = [
    ("id", UUID, _params(default=UUID4(), primary_key=True)),
    ("practice_id", UUID, _params(default=UUID4())),
    ("assertion_key", Varchar, _params(length=64, default="", unique=True)),
    ("expires_at", Timestamptz, _params(default=TimestamptzNow(), index=True)),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scimlab", description=DESCRIPTION)
    manager.add_table(class_name="SamlSpKeyTable", tablename="saml_sp_key", schema=None)
    manager.add_table(class_name="SamlAssertionTable", tablename="saml_assertion", schema=None)
    for table_class, tablename, columns in (
        ("SsoConfigTable", "sso_config", _SSO_CONFIG),
        ("SamlSpKeyTable", "saml_sp_key", _SP_KEY),
        ("SamlAssertionTable", "saml_assertion", _ASSERTION),
    ):
        for name, column_class, params in columns:
            manager.add_column(
                table_class_name=table_class,
                tablename=tablename,
                column_name=name,
                db_column_name=name,
                column_class_name=column_class.__name__,
                column_class=column_class,
                params=params,
                schema=None,
            )

    return manager
