"""Single sign-on: a practice's OpenID Connect identity provider and how its people are linked.

The link is made when SCIM creates the account, from the attribute the identity provider
also puts in its ID token (``../shared/idp-behaviors.md`` §1.9, §2.9, §3.6):

- Entra ID: ``oid`` equals ``externalId`` once the admin maps ``externalId <- objectId``, or
  ``preferred_username`` (the UPN) equals ``userName`` in the default mapping. Never ``sub``:
  it is pairwise per application.
- Okta: ``sub`` (``00u…``) equals ``externalId``.
- Google: ``email`` (the primary email) equals ``userName``.

So the first SSO sign-in needs no linking step, and an identity nobody provisioned matches
nothing. userName comparisons are case-insensitive (RFC 7643 §4.1.1) and compare
``text_key`` forms, as userName uniqueness does; Entra object ids are GUIDs (any case); Okta
ids are compared exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from server.domain.clock import utcnow
from server.domain.errors import InvalidValue
from server.domain.practices import AuditEntry
from server.domain.text import check_storable, text_key

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from uuid import UUID

    from server.domain.ports import Store
    from server.domain.staff import StaffProfile

__all__ = ["LinkRule", "SsoConfig", "SsoConfigService", "link_for", "subject_from_claims"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class LinkRule(StrEnum):
    """Which ID token claim identifies a person, and which SCIM attribute carries it."""

    ENTRA_OID = "oid:externalId"
    ENTRA_UPN = "preferred_username:userName"
    OKTA_SUB = "sub:externalId"
    GOOGLE_EMAIL = "email:userName"

    @property
    def claim(self) -> str:
        return self.value.partition(":")[0]

    @property
    def attribute(self) -> str:
        return self.value.partition(":")[2]

    @property
    def label(self) -> str:
        return _LABELS[self]

    def normalise(self, value: str) -> str:
        value = value.strip()
        if self is LinkRule.OKTA_SUB:
            return value
        return text_key(value)


_LABELS = {
    LinkRule.ENTRA_OID: "Microsoft Entra ID: oid claim = SCIM externalId (externalId <- objectId)",
    LinkRule.ENTRA_UPN: "Microsoft Entra ID: preferred_username claim = SCIM userName (UPN)",
    LinkRule.OKTA_SUB: "Okta: sub claim (00u…) = SCIM externalId",
    LinkRule.GOOGLE_EMAIL: "Google Workspace: email claim = SCIM userName (primary email)",
}


@dataclass(frozen=True, slots=True)
class SsoConfig:
    practice_id: UUID
    issuer: str
    client_id: str
    client_secret: str
    link_rule: LinkRule
    metadata_url: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def discovery_url(self) -> str:
        """OpenID Connect Discovery 1.0 §4, unless the practice named another document."""
        return self.metadata_url or f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"


def link_for(config: SsoConfig | None, profile: StaffProfile) -> tuple[str | None, str | None]:
    """(issuer, subject) recorded on an account SCIM creates; (None, None) without SSO or
    without the attribute the practice's rule reads."""
    if config is None:
        return None, None
    raw = profile.external_id if config.link_rule.attribute == "externalId" else profile.user_name
    if raw is None or not raw.strip():
        return None, None
    return config.issuer, config.link_rule.normalise(raw)


def subject_from_claims(rule: LinkRule, claims: Mapping[str, Any]) -> str | None:
    """The link subject an ID token names, or None when its claim is missing."""
    value = claims.get(rule.claim)
    if not isinstance(value, str) or not value.strip():
        return None
    return rule.normalise(value)


def _checked_url(label: str, value: str) -> str:
    value = value.strip()
    check_storable(label, value)
    parts = urlsplit(value)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    if not parts.hostname or not secure or len(value) > 512:
        raise InvalidValue(f"{label} must be an https URL (http only on this machine)")
    return value


class SsoConfigService:
    """What a practice administrator sets up: the IdP, its client, and the linking rule."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._now = clock

    async def get(self, practice_id: UUID) -> SsoConfig | None:
        return await self._store.sso_configs.get(practice_id)

    async def configure(
        self,
        practice_id: UUID,
        *,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        link_rule: str,
        metadata_url: str | None,
        actor: str,
    ) -> tuple[SsoConfig, int]:
        """Save the configuration and link every SCIM account the new rule can; returns the
        configuration and how many links changed. ``client_secret=None`` keeps the old one."""
        try:
            rule = LinkRule(link_rule)
        except ValueError:
            raise InvalidValue(f"unknown linking rule {link_rule!r}") from None
        client_id = client_id.strip()
        if not client_id or len(client_id) > 256:
            raise InvalidValue("the client id is 1 to 256 characters")
        check_storable("the client id", client_id)
        check_storable("the client secret", client_secret)
        metadata = _checked_url("The discovery URL", metadata_url) if metadata_url else None
        now = self._now()
        async with self._store.transaction():
            current = await self._store.sso_configs.get(practice_id)
            secret = client_secret if client_secret else (current.client_secret if current else "")
            config = SsoConfig(
                practice_id=practice_id,
                issuer=_checked_url("The issuer", issuer).rstrip("/"),
                client_id=client_id,
                client_secret=secret,
                link_rule=rule,
                metadata_url=metadata,
                created_at=current.created_at if current else now,
                updated_at=now,
            )
            await self._store.sso_configs.save(config)
            relinked = await self._relink(config)
            await self._store.audit.record(
                AuditEntry(
                    practice_id,
                    actor,
                    "sso.configured",
                    f"issuer={config.issuer} rule={rule.value} relinked={relinked}",
                    now,
                )
            )
        return config, relinked

    async def remove(self, practice_id: UUID, *, actor: str) -> int | None:
        """Remove the configuration and every SSO link recorded under it; returns how many
        accounts were unlinked, or None when the practice had no configuration. Configuring
        SSO again links the SCIM accounts anew (``_relink``)."""
        async with self._store.transaction():
            current = await self._store.sso_configs.get(practice_id)
            if current is None or not await self._store.sso_configs.delete(practice_id):
                return None
            unlinked = 0
            for user in await self._store.staff.list_all(practice_id):
                if user.sso_issuer is not None or user.sso_subject is not None:
                    await self._store.credentials.set_sso_link(practice_id, user.id, None, None)
                    unlinked += 1
            await self._store.audit.record(
                AuditEntry(
                    practice_id,
                    actor,
                    "sso.removed",
                    f"issuer={current.issuer} unlinked={unlinked}",
                    self._now(),
                )
            )
        return unlinked

    async def _relink(self, config: SsoConfig) -> int:
        """Accounts provisioned before SSO was set up (or under another rule) get their link
        now, from the attributes SCIM stored: still no linking step at sign-in."""
        changed = 0
        for user in await self._store.staff.list_all(config.practice_id):
            if not user.scim_provisioned or user.scim_deleted:
                continue
            link = link_for(config, user.profile)
            if link != (user.sso_issuer, user.sso_subject):
                await self._store.credentials.set_sso_link(config.practice_id, user.id, *link)
                changed += 1
        return changed
