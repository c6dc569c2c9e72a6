"""piccolo repository for SAML sign-in: the practices' SP key pairs and the assertion ids
already used; and the SAML columns of ``sso_config`` (read and written with the rest of the
row by ``PiccoloSsoConfigRepository``). Every query names its practice."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from server.domain.saml import SamlIdp
from server.domain.sso import SsoProtocol
from server.persistence.errors import is_unique_violation

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    from server.domain.sso import SsoConfig
    from server.persistence.fixed_statements import ColumnRow
    from server.persistence.tables import BoundTables

__all__ = ["PiccoloSamlRepository", "saml_columns", "saml_from_row"]

_PEM_END = "-----END CERTIFICATE-----"


def saml_from_row(row: ColumnRow) -> dict[str, Any]:
    """``protocol`` and ``saml`` of an ``SsoConfig`` from its ``sso_config`` row."""
    protocol = SsoProtocol(row["protocol"] or SsoProtocol.OIDC.value)
    if protocol is not SsoProtocol.SAML:
        return {"protocol": protocol, "saml": None}
    pems = [p.strip() + "\n" + _PEM_END for p in (row["saml_certificates"] or "").split(_PEM_END)]
    idp = SamlIdp(
        entity_id=row["issuer"],
        sso_url=row["saml_sso_url"] or "",
        certificates=tuple(p for p in pems if p.startswith("-----BEGIN")),
        name_id_format=row["saml_name_id_format"] or "",
        idp_initiated=bool(row["saml_idp_initiated"]),
        metadata_url=row["metadata_url"],
    )
    return {"protocol": protocol, "saml": idp}


def saml_columns(config: SsoConfig) -> dict[str, Any]:
    idp = config.saml
    return {
        "protocol": config.protocol.value,
        "saml_sso_url": idp.sso_url if idp else None,
        "saml_certificates": "\n".join(idp.certificates) if idp else None,
        "saml_name_id_format": idp.name_id_format if idp else "",
        "saml_idp_initiated": idp.idp_initiated if idp else False,
    }


class PiccoloSamlRepository:
    def __init__(self, tables: BoundTables) -> None:
        self._keys = tables.saml_sp_key
        self._seen = tables.saml_assertion

    async def sp_key(self, practice_id: UUID) -> tuple[str, str] | None:
        table = self._keys
        row = (
            await table.select(table.private_key, table.certificate)
            .where(table.practice_id == practice_id)
            .first()
            .run()
        )
        return None if row is None else (row["private_key"], row["certificate"])

    async def add_sp_key(
        self, practice_id: UUID, private_key: str, certificate: str, now: datetime
    ) -> bool:
        """Keep the practice's first key pair; False when another request stored one first."""
        table = self._keys
        row = table(
            id=uuid4(),
            practice_id=practice_id,
            private_key=private_key,
            certificate=certificate,
            created_at=now,
        )
        try:
            await table.insert(row).run()
        except Exception as error:
            if is_unique_violation(error):
                return False
            raise
        return True

    async def use_assertion(
        self, practice_id: UUID, assertion_id: str, expires_at: datetime, now: datetime
    ) -> bool:
        """Record an assertion id as used; False when it was used before (a replay).
        Expired ids are dropped first: past their NotOnOrAfter they are refused anyway."""
        table = self._seen
        mine = table.practice_id == practice_id
        await table.delete().where(mine & (table.expires_at < now)).run()
        key = hashlib.sha256(f"{practice_id}:{assertion_id}".encode()).hexdigest()
        if await table.exists().where(mine & (table.assertion_key == key)).run():
            return False
        row = table(id=uuid4(), practice_id=practice_id, assertion_key=key, expires_at=expires_at)
        try:
            await table.insert(row).run()
        except Exception as error:
            if is_unique_violation(error):
                return False
            raise
        return True
