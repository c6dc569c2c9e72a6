"""Management API: a practice's SSO configuration (``Authorization: Bearer <admin API key>``):
show, configure (PUT) and remove (DELETE). The client secret is write-only."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, put
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, JSONBody

from server.domain.errors import DomainError
from server.domain.sso import SsoConfig
from server.practices.api_errors import API_EXCEPTION_HANDLERS
from server.practices.controller import authenticated_admin
from server.services import Services

__all__ = ["SsoConfigController"]


class SsoConfigInput(msgspec.Struct, forbid_unknown_fields=True):
    """``link_rule``: ``oid:externalId`` or ``preferred_username:userName`` (Entra),
    ``sub:externalId`` (Okta), ``email:userName`` (Google). An absent ``client_secret``
    keeps the stored one."""

    issuer: str
    client_id: str
    link_rule: str
    client_secret: str | None = None
    metadata_url: str | None = None


@dataclass(frozen=True, slots=True)
class SsoConfigRecord:
    issuer: str
    client_id: str
    client_secret_set: bool
    link_rule: str
    claim: str
    scim_attribute: str
    metadata_url: str | None
    redirect_uri: str
    sign_in_url: str


def _record(services: Services, config: SsoConfig) -> SsoConfigRecord:
    practice = config.practice_id
    return SsoConfigRecord(
        issuer=config.issuer,
        client_id=config.client_id,
        client_secret_set=bool(config.client_secret),
        link_rule=config.link_rule.value,
        claim=config.link_rule.claim,
        scim_attribute=config.link_rule.attribute,
        metadata_url=config.metadata_url,
        redirect_uri=services.sso.redirect_uri(practice),
        sign_in_url=f"{services.settings.public_url}/console/{practice}/sign-in",
    )


class SsoConfigController(Controller):
    path = "/api/v1/practices/{practice_id:uuid}/sso"
    dependencies = {"actor": Provide(authenticated_admin)}  # noqa: RUF012
    tags = ["Single sign-on"]  # noqa: RUF012
    exception_handlers = API_EXCEPTION_HANDLERS

    @get("/", summary="Show the SSO configuration (the client secret is never returned)")
    async def show(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
    ) -> SsoConfigRecord:
        config = await services.sso_configs.get(practice_id)
        if config is None:
            raise NotFoundException("single sign-on is not configured for this practice")
        return _record(services, config)

    @put("/", summary="Configure SSO; SCIM accounts are linked under the new rule at once")
    async def configure(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
        data: JSONBody[SsoConfigInput],
    ) -> SsoConfigRecord:
        try:
            config, _ = await services.sso_configs.configure(
                practice_id,
                issuer=data.issuer,
                client_id=data.client_id,
                client_secret=data.client_secret,
                link_rule=data.link_rule,
                metadata_url=data.metadata_url,
                actor=actor,
            )
        except DomainError as error:
            raise ClientException(error.detail) from None
        return _record(services, config)

    @delete(
        "/",
        status_code=204,
        summary="Remove the SSO configuration; SCIM accounts lose their SSO link with it",
    )
    async def remove(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
    ) -> None:
        if await services.sso_configs.remove(practice_id, actor=actor) is None:
            raise NotFoundException("single sign-on is not configured for this practice")
