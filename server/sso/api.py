"""Management API: a practice's SSO configuration (``Authorization: Bearer <admin API key>``):
show, configure (PUT) and remove (DELETE), OpenID Connect or SAML 2.0 (``protocol``). The
client secret is write-only."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, put
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, JSONBody

from server.domain.errors import DomainError
from server.domain.sso import SsoConfig, SsoProtocol
from server.practices.api_errors import API_EXCEPTION_HANDLERS
from server.practices.controller import authenticated_admin
from server.services import Services
from server.sso.saml_setup import SamlInput, configure_saml

__all__ = ["SsoConfigController"]


class SsoConfigInput(msgspec.Struct, forbid_unknown_fields=True):
    """``protocol``: ``oidc`` (default) or ``saml``.

    OIDC: ``issuer``, ``client_id``, ``link_rule`` ``oid:externalId`` or
    ``preferred_username:userName`` (Entra), ``sub:externalId`` (Okta), ``email:userName``
    (Google); an absent ``client_secret`` keeps the stored one; ``metadata_url`` is the
    discovery document.

    SAML: ``link_rule`` ``nameid:userName`` or ``objectidentifier:externalId`` (Entra);
    the IdP from ``metadata_url`` or ``metadata_xml``, or ``entity_id``, ``sso_url`` and
    ``certificates`` (PEM or base64; two while the IdP rotates); ``name_id_format``;
    ``idp_initiated`` (false unless given)."""

    link_rule: str
    protocol: str = "oidc"
    issuer: str = ""
    client_id: str = ""
    client_secret: str | None = None
    metadata_url: str | None = None
    metadata_xml: str | None = None
    entity_id: str = ""
    sso_url: str = ""
    certificates: list[str] = msgspec.field(default_factory=list)
    name_id_format: str = ""
    idp_initiated: bool = False


@dataclass(frozen=True, slots=True)
class SamlRecord:
    entity_id: str
    sso_url: str
    certificates: list[str]
    name_id_format: str
    idp_initiated: bool


@dataclass(frozen=True, slots=True)
class SsoConfigRecord:
    protocol: str
    issuer: str
    client_id: str
    client_secret_set: bool
    link_rule: str
    claim: str
    scim_attribute: str
    metadata_url: str | None
    redirect_uri: str
    sign_in_url: str
    sp_entity_id: str
    sp_metadata_url: str
    acs_url: str
    saml: SamlRecord | None


def _record(services: Services, config: SsoConfig) -> SsoConfigRecord:
    practice = config.practice_id
    idp = config.saml
    return SsoConfigRecord(
        protocol=config.protocol.value,
        issuer=config.issuer,
        client_id=config.client_id,
        client_secret_set=bool(config.client_secret),
        link_rule=config.link_rule.value,
        claim=config.link_rule.claim,
        scim_attribute=config.link_rule.attribute,
        metadata_url=config.metadata_url,
        redirect_uri=services.sso.redirect_uri(practice),
        sign_in_url=f"{services.settings.public_url}/console/{practice}/sign-in",
        sp_entity_id=services.saml.entity_id(practice),
        sp_metadata_url=services.saml.entity_id(practice),
        acs_url=services.saml.acs_url(practice),
        saml=SamlRecord(
            idp.entity_id,
            idp.sso_url,
            list(idp.certificates),
            idp.name_id_format,
            idp.idp_initiated,
        )
        if idp
        else None,
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
            if data.protocol == SsoProtocol.SAML.value:
                given = SamlInput(
                    link_rule=data.link_rule,
                    entity_id=data.entity_id,
                    sso_url=data.sso_url,
                    certificates=data.certificates,
                    metadata_url=data.metadata_url,
                    metadata_xml=data.metadata_xml,
                    name_id_format=data.name_id_format,
                    idp_initiated=data.idp_initiated,
                )
                config, _ = await configure_saml(
                    services.sso_configs, practice_id, given, actor=actor
                )
            elif data.protocol == SsoProtocol.OIDC.value:
                config, _ = await services.sso_configs.configure(
                    practice_id,
                    issuer=data.issuer,
                    client_id=data.client_id,
                    client_secret=data.client_secret,
                    link_rule=data.link_rule,
                    metadata_url=data.metadata_url,
                    actor=actor,
                )
            else:
                raise ClientException("protocol is oidc or saml")
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
