"""Deployment settings kept in the database, one row per name (``deployment_setting``).

``scimlab serve`` records there the public URL it hands out, so that a command run as another
process, from another directory, builds the same URLs without being told the port again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from piccolo.columns import Text, Varchar
from piccolo.table import Table

if TYPE_CHECKING:
    from piccolo.engine.base import Engine

__all__ = ["PUBLIC_URL", "PiccoloDeploymentSettings"]

#: The base URL the last ``scimlab serve`` hands out (its public URL, or the address it bound).
PUBLIC_URL = "public_url"


class DeploymentSettingTable(Table, tablename="deployment_setting"):
    name = Varchar(length=64, primary_key=True)
    value = Text()


class PiccoloDeploymentSettings:
    def __init__(self, engine: Engine[Any]) -> None:
        self._table: type[DeploymentSettingTable] = type(
            "BoundDeploymentSetting",
            (DeploymentSettingTable,),
            {},
            tablename="deployment_setting",
            db=engine,
        )

    async def get(self, name: str) -> str | None:
        table = self._table
        row = await table.select(table.value).where(table.name == name).first().run()
        return None if row is None else str(row["value"])

    async def put(self, name: str, value: str) -> None:
        table = self._table
        await (
            table.insert(table(name=name, value=value))
            .on_conflict(target=table.name, action="DO UPDATE", values=[table.value])
            .run()
        )

    async def setdefault(self, name: str, value: str) -> str:
        table = self._table
        await (
            table.insert(table(name=name, value=value))
            .on_conflict(target=table.name, action="DO NOTHING")
            .run()
        )
        kept = await self.get(name)
        return value if kept is None else kept

    async def starting_with(self, prefix: str) -> dict[str, str]:
        """Every setting whose name starts with ``prefix``, by name. (LIKE may match a little
        more, ``_`` being its any-character: the names are checked again here.)"""
        table = self._table
        query = table.select(table.name, table.value).where(table.name.like(prefix + "%"))
        rows = await query.run()
        return {str(r["name"]): str(r["value"]) for r in rows if str(r["name"]).startswith(prefix)}
