"""The SCIM configuration lifecycle of a practice: enable, show, disable, regenerate, delete.

Every action is written to the practice's audit log in the same transaction; secrets
never are. A secret is returned once, by the call that created it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from server.domain.clock import utcnow
from server.domain.errors import ConfigurationDisabled, DomainError, NotFound
from server.domain.practices import (
    AccessToken,
    AuditEntry,
    AuditFilter,
    Practice,
    ScimConfig,
    TokenKind,
)
from server.domain.staff import AccessLevel, StaffProfile, StaffUser
from server.security import hash_password, hash_secret, mask_secret, new_client_id, new_secret

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from server.domain.ports import Store
    from server.settings import Settings

__all__ = [
    "ConfirmationRequired",
    "NewPractice",
    "PracticeService",
    "ScimCredentials",
    "StaticToken",
]

DISABLE_WORD = "DISABLE"
DELETE_WORD = "DELETE"


class ConfirmationRequired(DomainError):
    """A destructive action was asked for without its exact confirmation word."""


@dataclass(frozen=True, slots=True)
class ScimCredentials:
    """What a practice administrator copies into the identity provider."""

    scim_endpoint_url: str
    token_endpoint_url: str
    client_id: str
    client_secret: str
    secret_shown: bool
    enabled: bool


@dataclass(frozen=True, slots=True)
class NewPractice:
    practice: Practice
    admin_user_id: UUID
    admin_username: str
    admin_password: str
    admin_api_key: str


@dataclass(frozen=True, slots=True)
class StaticToken:
    id: UUID
    token: str
    created_at: datetime


class PracticeService:
    def __init__(
        self, store: Store, settings: Settings, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._store = store
        self._settings = settings
        self._now = clock

    async def create_practice(self, name: str, *, actor: str) -> NewPractice:
        """A practice and its first practice administrator, who signs in with the returned
        password (console) or API key (management API)."""
        name = name.strip()
        if not name or len(name) > 200:
            raise DomainError("a practice name is 1 to 200 characters")
        now = self._now()
        practice = Practice(id=uuid4(), name=name, created_at=now)
        password = secrets.token_urlsafe(18)
        api_key = new_secret("sak")
        admin = StaffUser(
            id=uuid4(),
            practice_id=practice.id,
            profile=StaffProfile(user_name="admin", given_name="Practice", family_name="Admin"),
            access_level=AccessLevel.PROVIDER,
            is_practice_admin=True,
            scim_provisioned=False,
            scim_deleted=False,
            sso_issuer=None,
            sso_subject=None,
            has_password=True,
            version=1,
            created_at=now,
            updated_at=now,
        )
        async with self._store.transaction():
            await self._store.practices.add(practice)
            await self._store.staff.add(
                admin, password_hash=hash_password(password), api_key_hash=hash_secret(api_key)
            )
            await self._audit(practice.id, actor, "practice.created", f"name={name}")
        return NewPractice(practice, admin.id, "admin", password, api_key)

    async def list_practices(self) -> list[tuple[Practice, ScimConfig | None]]:
        """Every practice with its SCIM configuration (None when not configured)."""
        practices = await self._store.practices.list_all()
        return [(p, await self._store.scim_configs.get(p.id)) for p in practices]

    async def enable(self, practice_id: UUID, *, actor: str) -> ScimCredentials:
        """Create the configuration (new client id and secret) or resume a paused one."""
        await self._require_practice(practice_id)
        async with self._store.transaction():
            config = await self._store.scim_configs.get(practice_id)
            if config is None:
                secret = new_secret("scs")
                config = self._new_config(practice_id, new_client_id(), secret)
                await self._store.scim_configs.save(config)
                await self._audit(
                    practice_id, actor, "scim.enabled", f"client_id={config.client_id}"
                )
                return self._credentials(config, secret)
            if not config.enabled:
                config = replace(config, enabled=True, updated_at=self._now())
                await self._store.scim_configs.save(config)
                await self._audit(
                    practice_id, actor, "scim.resumed", f"client_id={config.client_id}"
                )
        return self._credentials(config, None)

    async def show(self, practice_id: UUID) -> ScimCredentials:
        return self._credentials(await self._config(practice_id), None)

    async def disable(self, practice_id: UUID, *, confirm: str, actor: str) -> ScimCredentials:
        """Pause provisioning. Every token is revoked; client id and secret are kept."""
        _require_word(confirm, DISABLE_WORD)
        async with self._store.transaction():
            config = await self._config(practice_id)
            config = replace(config, enabled=False, updated_at=self._now())
            await self._store.scim_configs.save(config)
            revoked = await self._store.tokens.revoke_all(practice_id)
            await self._audit(practice_id, actor, "scim.disabled", f"tokens_revoked={revoked}")
        return self._credentials(config, None)

    async def regenerate_secret(self, practice_id: UUID, *, actor: str) -> ScimCredentials:
        """A new secret; the old one and every token (OAuth and static) stop working now."""
        secret = new_secret("scs")
        async with self._store.transaction():
            config = await self._config(practice_id)
            config = replace(
                config,
                secret_hash=hash_secret(secret),
                secret_hint=secret[-4:],
                credential_id=uuid4(),
                updated_at=self._now(),
            )
            await self._store.scim_configs.save(config)
            revoked = await self._store.tokens.revoke_all(practice_id)
            await self._audit(
                practice_id, actor, "scim.secret_regenerated", f"tokens_revoked={revoked}"
            )
        return self._credentials(config, secret)

    async def delete(self, practice_id: UUID, *, confirm: str, actor: str) -> None:
        """Remove the configuration for good; users stay. Enabling again issues new credentials."""
        _require_word(confirm, DELETE_WORD)
        async with self._store.transaction():
            config = await self._config(practice_id)
            revoked = await self._store.tokens.revoke_all(practice_id)
            await self._store.scim_configs.delete(practice_id)
            await self._audit(
                practice_id,
                actor,
                "scim.deleted",
                f"client_id={config.client_id} tokens_revoked={revoked}",
            )

    async def create_static_token(self, practice_id: UUID, *, actor: str) -> StaticToken:
        """A long-lived bearer token for IdPs that take one instead of OAuth; shown once."""
        token = new_secret("sst")
        async with self._store.transaction():
            config = await self._config(practice_id)
            if not config.enabled:
                raise ConfigurationDisabled("SCIM provisioning is disabled for this practice")
            record = AccessToken(
                id=uuid4(),
                practice_id=practice_id,
                kind=TokenKind.STATIC,
                credential_id=config.credential_id,
                expires_at=None,
                created_at=self._now(),
                hint=token[-4:],
            )
            await self._store.tokens.add(record, hash_secret(token))
            await self._audit(practice_id, actor, "scim.static_token_created", f"id={record.id}")
        return StaticToken(record.id, token, record.created_at)

    async def revoke_static_token(self, practice_id: UUID, token_id: UUID, *, actor: str) -> None:
        async with self._store.transaction():
            if not await self._store.tokens.revoke(practice_id, token_id):
                raise NotFound(f"no static token {token_id}")
            await self._audit(practice_id, actor, "scim.static_token_revoked", f"id={token_id}")

    async def list_static_tokens(self, practice_id: UUID) -> list[AccessToken]:
        await self._require_practice(practice_id)
        return await self._store.tokens.list_static(practice_id)

    async def audit_log(
        self,
        practice_id: UUID,
        *,
        limit: int = 100,
        offset: int = 0,
        where: AuditFilter | None = None,
    ) -> list[AuditEntry]:
        await self._require_practice(practice_id)
        return await self._store.audit.list(practice_id, limit=limit, offset=offset, where=where)

    async def _require_practice(self, practice_id: UUID) -> Practice:
        practice = await self._store.practices.get(practice_id)
        if practice is None:
            raise NotFound(f"no practice {practice_id}")
        return practice

    async def _config(self, practice_id: UUID) -> ScimConfig:
        await self._require_practice(practice_id)
        config = await self._store.scim_configs.get(practice_id)
        if config is None:
            raise NotFound("SCIM provisioning is not configured for this practice")
        return config

    def _new_config(self, practice_id: UUID, client_id: str, secret: str) -> ScimConfig:
        now = self._now()
        return ScimConfig(
            practice_id=practice_id,
            client_id=client_id,
            secret_hash=hash_secret(secret),
            secret_hint=secret[-4:],
            credential_id=uuid4(),
            enabled=True,
            created_at=now,
            updated_at=now,
        )

    def _credentials(self, config: ScimConfig, secret: str | None) -> ScimCredentials:
        return ScimCredentials(
            scim_endpoint_url=self._settings.scim_base_url(str(config.practice_id)),
            token_endpoint_url=self._settings.token_url,
            client_id=config.client_id,
            client_secret=secret if secret is not None else mask_secret(config.secret_hint),
            secret_shown=secret is not None,
            enabled=config.enabled,
        )

    async def _audit(self, practice_id: UUID, actor: str, action: str, detail: str) -> None:
        entry = AuditEntry(practice_id, actor, action, detail, self._now())
        await self._store.audit.record(entry)


def _require_word(given: str, word: str) -> None:
    """Refuse unless ``word`` was typed as is; the refusal is shown to the person who typed."""
    if given != word:
        hint = " in capital letters" if given.strip().upper() == word else ""
        msg = f"Nothing was changed. To confirm, type {word}{hint} in the box and try again."
        raise ConfirmationRequired(msg)
