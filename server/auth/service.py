"""Issuing and checking credentials for the SCIM endpoint.

OAuth 2.0 client credentials (RFC 6749 §4.4) give short-lived bearer tokens bound to the
practice and to its current secret; static bearer tokens and HTTP Basic with the client id
and secret serve identity providers that take those instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NoReturn
from uuid import UUID, uuid4

from server.domain.acting import ActingCredential, acting_credential
from server.domain.clock import utcnow
from server.domain.practices import AccessToken, TokenKind
from server.security import constant_time_equals, hash_secret, new_secret

if TYPE_CHECKING:
    from collections.abc import Callable

    from server.domain.account_keys import AccountKey
    from server.domain.ports import Store

__all__ = ["AuthError", "IssuedToken", "OAuthError", "TokenService"]

# Compared against when the client id is unknown, so both failures cost the same.
_UNKNOWN_CLIENT_HASH = hash_secret(new_secret("unused"))


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: ``error`` is the registered code, ``status`` the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class AuthError(Exception):
    """The SCIM request carries no valid credential for the practice in its URL (RFC 6750 §3)."""

    def __init__(
        self, description: str, *, error: str = "invalid_token", status: int = 401
    ) -> None:
        super().__init__(description)
        self.description = description
        self.error = error
        self.status = status


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


class TokenService:
    def __init__(
        self,
        store: Store,
        *,
        token_ttl_seconds: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._ttl = token_ttl_seconds
        self._now = clock

    async def client_credentials(self, client_id: str, client_secret: str) -> IssuedToken:
        """RFC 6749 §4.4.2-4.4.3: authenticate the client, then issue a bearer token."""
        config = await self._store.scim_configs.get_by_client_id(client_id)
        expected = config.secret_hash if config is not None else _UNKNOWN_CLIENT_HASH
        if not constant_time_equals(expected, hash_secret(client_secret)) or config is None:
            raise OAuthError("invalid_client", "client authentication failed", status=401)
        if not config.enabled:
            raise OAuthError(
                "unauthorized_client", "SCIM provisioning is disabled for this practice"
            )
        token = new_secret("sat")
        now = self._now()
        record = AccessToken(
            id=uuid4(),
            practice_id=config.practice_id,
            kind=TokenKind.OAUTH,
            credential_id=config.credential_id,
            expires_at=now + timedelta(seconds=self._ttl),
            created_at=now,
            hint=token[-4:],
        )
        await self._store.tokens.add(record, hash_secret(token))
        return IssuedToken(token, self._ttl)

    async def practice_for_bearer(
        self,
        token: str,
        practice_id: UUID,
        *,
        account: AccountKey | None = None,
        sso_config: bool = False,
    ) -> UUID:
        """The practice a bearer token (OAuth or static) acts for; it must be ``practice_id``.
        ``account``: the account the request goes on to read, or ``sso_config``: it goes on
        to read the practice's SSO configuration; read with the token where the store can
        (``TokenRepository.credential_for``)."""
        credential = await self._store.tokens.credential_for(
            hash_secret(token), practice_id, self._now(), account=account, sso_config=sso_config
        )
        if credential is None:
            await self._raise_unusable(practice_id, "the access token is invalid or expired")
        acting_credential.set(credential)
        return practice_id

    async def practice_for_basic(self, client_id: str, secret: str, practice_id: UUID) -> UUID:
        """HTTP Basic with the SCIM client id and secret (Okta's basic auth mode)."""
        config = await self._store.scim_configs.get_by_client_id(client_id)
        expected = config.secret_hash if config is not None else _UNKNOWN_CLIENT_HASH
        matches = constant_time_equals(expected, hash_secret(secret))
        if config is None or not matches or config.practice_id != practice_id:
            raise AuthError("invalid client credentials", error="invalid_client")
        if not config.enabled:
            raise AuthError(
                "SCIM provisioning is disabled for this practice", error="invalid_client"
            )
        acting_credential.set(ActingCredential("basic", client_id))
        return practice_id

    async def _raise_unusable(self, practice_id: UUID, description: str) -> NoReturn:
        config = await self._store.scim_configs.get(practice_id)
        if config is not None and not config.enabled:
            description = "SCIM provisioning is disabled for this practice; credentials are refused"
        raise AuthError(description)
