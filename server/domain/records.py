"""The records the repositories keep and ``server.domain.ports`` names: plain data and
the enumerations it holds, no services. Kept apart from the services that use them so that
the ports and the services import them without an import circle; each service module
re-exports its own records under their old names."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from server.domain.text import text_key

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    from server.domain.saml import SamlIdp

__all__ = [
    "LINK_RULE_LABELS",
    "FlowKind",
    "GroupProfile",
    "GroupRecord",
    "LinkRule",
    "Location",
    "OutboxMessage",
    "Provider",
    "SignInFlow",
    "SsoConfig",
    "SsoProtocol",
]


@dataclass(frozen=True, slots=True)
class GroupProfile:
    display_name: str
    external_id: str | None = None
    member_ids: tuple[UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: UUID
    practice_id: UUID
    profile: GroupProfile
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    practice_id: UUID
    recipient: str
    subject: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Location:
    id: UUID
    practice_id: UUID
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Provider:
    id: UUID
    practice_id: UUID
    staff_id: UUID
    npi: str
    specialty: str
    created_at: datetime


class FlowKind(StrEnum):
    CODE = "code"  # password accepted, authenticator code pending
    SSO = "sso"  # redirected to the identity provider
    RESET = "reset"  # password reset link sent


@dataclass(frozen=True, slots=True)
class SignInFlow:
    kind: FlowKind
    practice_id: UUID
    staff_id: UUID | None
    nonce: str | None
    code_verifier: str | None
    created_at: datetime
    expires_at: datetime


class SsoProtocol(StrEnum):
    OIDC = "oidc"
    SAML = "saml"


class LinkRule(StrEnum):
    """Which ID token claim (or SAML assertion value) identifies a person, and which SCIM
    attribute carries it."""

    ENTRA_OID = "oid:externalId"
    ENTRA_UPN = "preferred_username:userName"
    OKTA_SUB = "sub:externalId"
    GOOGLE_EMAIL = "email:userName"
    SAML_NAMEID = "nameid:userName"
    SAML_OBJECTID = "objectidentifier:externalId"

    @property
    def protocol(self) -> SsoProtocol:
        saml = self in (LinkRule.SAML_NAMEID, LinkRule.SAML_OBJECTID)
        return SsoProtocol.SAML if saml else SsoProtocol.OIDC

    @property
    def claim(self) -> str:
        return self.value.partition(":")[0]

    @property
    def attribute(self) -> str:
        return self.value.partition(":")[2]

    @property
    def label(self) -> str:
        return LINK_RULE_LABELS[self]

    def normalise(self, value: str) -> str:
        value = value.strip()
        if self is LinkRule.OKTA_SUB:
            return value
        return text_key(value)


LINK_RULE_LABELS = {
    LinkRule.ENTRA_OID: "Microsoft Entra ID: oid claim = SCIM externalId (externalId <- objectId)",
    LinkRule.ENTRA_UPN: "Microsoft Entra ID: preferred_username claim = SCIM userName (UPN)",
    LinkRule.OKTA_SUB: "Okta: sub claim (00u…) = SCIM externalId",
    LinkRule.GOOGLE_EMAIL: "Google Workspace: email claim = SCIM userName (primary email)",
    LinkRule.SAML_NAMEID: "NameID = SCIM userName (Entra ID UPN, Okta username, Google "
    "primary email)",
    LinkRule.SAML_OBJECTID: "Microsoft Entra ID: objectidentifier claim = SCIM externalId "
    "(externalId <- objectId)",
}


@dataclass(frozen=True, slots=True)
class SsoConfig:
    """``issuer`` is the OIDC issuer or the SAML IdP's entity id: the link's namespace."""

    practice_id: UUID
    issuer: str
    client_id: str
    client_secret: str
    link_rule: LinkRule
    metadata_url: str | None
    created_at: datetime
    updated_at: datetime
    protocol: SsoProtocol = SsoProtocol.OIDC
    saml: SamlIdp | None = None

    @property
    def discovery_url(self) -> str:
        """OpenID Connect Discovery 1.0 §4, unless the practice named another document."""
        return self.metadata_url or f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
