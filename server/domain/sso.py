"""Single sign-on: a practice's identity provider (OpenID Connect or SAML 2.0) and how its
people are linked.

The link is made when SCIM creates the account, from the attribute the identity provider
also puts in its ID token or assertion (``../shared/idp-behaviors.md`` §1.9, §2.9, §3.6):

- Entra ID: ``oid`` equals ``externalId`` once the admin maps ``externalId <- objectId``, or
  ``preferred_username`` (the UPN) equals ``userName`` in the default mapping. Never ``sub``:
  it is pairwise per application.
- Okta: ``sub`` (``00u…``) equals ``externalId``.
- Google: ``email`` (the primary email) equals ``userName``.
- SAML: the NameID equals ``userName`` (Entra's UPN, Okta's application username, Google's
  primary email), or Entra's ``objectidentifier`` claim equals ``externalId``.

So the first SSO sign-in needs no linking step, and an identity nobody provisioned matches
nothing. userName comparisons are case-insensitive (RFC 7643 §4.1.1) and compare
``text_key`` forms, as userName uniqueness does; Entra object ids are GUIDs (any case); Okta
ids are compared exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.domain.clock import utcnow
from server.domain.errors import InvalidValue
from server.domain.practices import AuditEntry
from server.domain.records import LinkRule, SsoConfig, SsoProtocol
from server.domain.saml import checked_url, saml_idp
from server.domain.text import check_storable

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime
    from uuid import UUID

    from server.domain.ports import Store
    from server.domain.staff import StaffProfile

__all__ = [
    "OBJECT_IDENTIFIER",
    "LinkRule",
    "SsoConfig",
    "SsoConfigService",
    "SsoProtocol",
    "link_for",
    "subject_from_assertion",
    "subject_from_claims",
]

#: Entra's SAML claim for the user's object id (the OIDC ``oid``).
OBJECT_IDENTIFIER = "http://schemas.microsoft.com/identity/claims/objectidentifier"


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


def subject_from_assertion(
    rule: LinkRule, name_id: str, attributes: Mapping[str, list[str]]
) -> str | None:
    """The link subject a verified SAML assertion names, or None when it lacks the value."""
    if rule is LinkRule.SAML_OBJECTID:
        values = attributes.get(OBJECT_IDENTIFIER) or []
        value = values[0] if len(values) == 1 else ""
    else:
        value = name_id
    return rule.normalise(value) if value.strip() else None


def _rule(value: str, protocol: SsoProtocol) -> LinkRule:
    try:
        rule = LinkRule(value)
    except ValueError:
        raise InvalidValue(f"unknown linking rule {value[:100]!r}") from None
    if rule.protocol is not protocol:
        raise InvalidValue(f"the linking rule {rule.value} is not a {protocol.value} rule")
    return rule


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
        rule = _rule(link_rule, SsoProtocol.OIDC)
        client_id = client_id.strip()
        if not client_id or len(client_id) > 256:
            raise InvalidValue("the client id is 1 to 256 characters", field="client_id")
        check_storable("the client id", client_id, field="client_id")
        check_storable("the client secret", client_secret, field="client_secret")
        metadata = (
            checked_url("The discovery URL", metadata_url, field="metadata_url")
            if metadata_url
            else None
        )
        now = self._now()
        async with self._store.transaction():
            current = await self._store.sso_configs.get(practice_id)
            secret = client_secret if client_secret else (current.client_secret if current else "")
            config = SsoConfig(
                practice_id=practice_id,
                issuer=checked_url("The issuer", issuer, field="issuer").rstrip("/"),
                client_id=client_id,
                client_secret=secret,
                link_rule=rule,
                metadata_url=metadata,
                created_at=current.created_at if current else now,
                updated_at=now,
            )
            return config, await self._save(config, actor)

    async def configure_saml(
        self,
        practice_id: UUID,
        *,
        entity_id: str,
        sso_url: str,
        certificates: Sequence[str],
        link_rule: str,
        name_id_format: str = "",
        idp_initiated: bool = False,
        metadata_url: str | None = None,
        actor: str,
    ) -> tuple[SsoConfig, int]:
        """Choose SAML 2.0 with this IdP (certificates as PEM: the edge reads metadata and
        normalises them); returns the configuration and how many links changed."""
        rule = _rule(link_rule, SsoProtocol.SAML)
        idp = saml_idp(
            entity_id=entity_id,
            sso_url=sso_url,
            certificates=certificates,
            name_id_format=name_id_format,
            idp_initiated=idp_initiated,
            metadata_url=metadata_url,
        )
        now = self._now()
        async with self._store.transaction():
            current = await self._store.sso_configs.get(practice_id)
            config = SsoConfig(
                practice_id=practice_id,
                issuer=idp.entity_id,
                client_id="",
                client_secret="",
                link_rule=rule,
                metadata_url=idp.metadata_url,
                created_at=current.created_at if current else now,
                updated_at=now,
                protocol=SsoProtocol.SAML,
                saml=idp,
            )
            return config, await self._save(config, actor)

    async def _save(self, config: SsoConfig, actor: str) -> int:
        """Store the configuration, relink, audit (inside the caller's transaction)."""
        await self._store.sso_configs.save(config)
        relinked = await self._relink(config)
        detail = (
            f"protocol={config.protocol.value} issuer={config.issuer} "
            f"rule={config.link_rule.value} relinked={relinked}"
        )
        if config.saml is not None:
            detail += f" idp_initiated={str(config.saml.idp_initiated).lower()}"
        await self._store.audit.record(
            AuditEntry(config.practice_id, actor, "sso.configured", detail, config.updated_at)
        )
        return relinked

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
