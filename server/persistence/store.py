"""The piccolo ``Store``: one engine, its bound tables, every repository and one transaction."""

from __future__ import annotations

import asyncio
import functools
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from server.persistence.engine import close_engine, create_engine, start_engine
from server.persistence.fixed_statements import DirectSql
from server.persistence.migrate import apply_migrations
from server.persistence.repositories.deployment import PiccoloDeploymentSettings
from server.persistence.repositories.groups import PiccoloGroupRepository
from server.persistence.repositories.mfa import PiccoloMfaRepository
from server.persistence.repositories.practices import (
    PiccoloAuditRepository,
    PiccoloPracticeRepository,
    PiccoloScimConfigRepository,
    PiccoloTokenRepository,
    no_address,
)
from server.persistence.repositories.saml import PiccoloSamlRepository
from server.persistence.repositories.signin import (
    PiccoloCredentialRepository,
    PiccoloFlowRepository,
    PiccoloSsoConfigRepository,
)
from server.persistence.repositories.staff import PiccoloStaffRepository
from server.persistence.repositories.staff_extras import (
    PiccoloLocationRepository,
    PiccoloSessionRepository,
)
from server.persistence.repositories.team import PiccoloOutboxRepository, PiccoloProviderRepository
from server.persistence.tables import bind_tables
from server.security import SecretBox

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence

    from piccolo.engine.base import Engine

__all__ = ["PiccoloStore", "open_store"]


class PiccoloStore:
    def __init__(
        self,
        engine: Engine[Any],
        box: SecretBox | None = None,
        client_address: Callable[[], str | None] = no_address,
    ) -> None:
        self.engine = engine
        tables = bind_tables(engine)
        self._tables = tables
        self.direct = direct = DirectSql(engine)
        self.practices = PiccoloPracticeRepository(tables)
        self.scim_configs = PiccoloScimConfigRepository(tables)
        self.tokens = PiccoloTokenRepository(tables, direct)
        self.audit = PiccoloAuditRepository(tables, direct, client_address)
        self.staff = PiccoloStaffRepository(tables, direct, self.audit)
        self.groups = PiccoloGroupRepository(tables, direct)
        self.locations = PiccoloLocationRepository(tables)
        self.sessions = PiccoloSessionRepository(tables)
        self.sso_configs = PiccoloSsoConfigRepository(tables, direct)
        self.saml = PiccoloSamlRepository(tables)
        self.credentials = PiccoloCredentialRepository(tables)
        self.mfa = PiccoloMfaRepository(direct, tables, box or SecretBox())
        self.flows = PiccoloFlowRepository(tables)
        self.providers = PiccoloProviderRepository(tables)
        self.outbox = PiccoloOutboxRepository(tables)
        self.deployment = PiccoloDeploymentSettings(engine)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """All queries awaited inside run in one transaction (piccolo tracks it per task):
        ``DirectSql.transaction``."""
        async with self.direct.transaction():
            yield

    async def ping(self) -> None:
        await self._tables.practice.raw("SELECT 1").run()

    async def close(self) -> None:
        await self.direct.close()
        await close_engine(self.engine)


async def open_store(
    database_url: str,
    *,
    migrate: bool = True,
    database_timeout: float | None = None,
    secret_keys: Sequence[str] = (),
    client_address: Callable[[], str | None] = no_address,
) -> PiccoloStore:
    """``database_timeout`` bounds every database wait (``create_engine``'s ``timeout``);
    ``secret_keys`` (``Settings.secret_keys``) encrypt the secrets kept for reading back;
    ``client_address`` gives the address of the request being handled, for the audit log."""
    # piccolo's engines check the server version synchronously when built; keep that
    # blocking call off the event loop.
    engine = await asyncio.to_thread(
        functools.partial(create_engine, database_url, timeout=database_timeout)
    )
    await start_engine(engine)
    if migrate:
        await apply_migrations(engine)
    return PiccoloStore(engine, SecretBox(secret_keys), client_address)
