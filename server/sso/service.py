"""Staff sign-in through the practice's identity provider (authorization code + PKCE).

The account is found by the link SCIM recorded when it created the account; nothing is
linked, created or changed here. Every refusal is audited and explained to the person.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

from server.domain.clock import utcnow
from server.domain.errors import DomainError
from server.domain.practices import AuditEntry
from server.domain.signin import FlowKind, SignInFlow, new_token
from server.domain.sso import subject_from_claims
from server.security import constant_time_equals, hash_secret
from server.sso.oidc import TokenRejected, authorize_url, pkce_pair

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from server.domain.ports import Store
    from server.domain.signin import NewSession, SignInService
    from server.domain.sso import SsoConfig
    from server.sso.oidc import OidcClient

__all__ = ["SsoRefused", "SsoSignInService", "SsoStart"]

FLOW_TTL = timedelta(minutes=10)

_MESSAGES = {
    "not_configured": "This practice has not set up sign-in through an identity provider.",
    "state": "This sign-in could not be matched to one started in this browser. "
    "Start again from the sign-in page.",
    "idp_error": "Your identity provider did not complete the sign-in.",
    "foreign_idp": "This sign-in came from an identity provider or application that this "
    "practice does not use.",
    "not_provisioned": "Your organisation account has not been set up for this practice. Ask "
    "your administrator to assign you the application in your identity provider.",
    "deactivated": "Your account in this practice is deactivated, so you cannot sign in. "
    "Ask your practice administrator if this is a mistake.",
    "deleted": "Your account was removed from this practice by your organisation, so you "
    "cannot sign in.",
    "invalid_token": "The sign-in could not be verified. Start again from the sign-in page.",
    "idp_initiated": "Signing in from your identity provider's app portal is turned off for "
    "this practice. Start from the practice's sign-in page instead.",
    "replayed": "This sign-in response was already used. Start again from the sign-in page.",
}


class SsoRefused(DomainError):
    """A refused SSO sign-in; ``detail`` is the page's explanation, ``reason`` its audit code."""

    def __init__(self, reason: str) -> None:
        super().__init__(_MESSAGES.get(reason, _MESSAGES["invalid_token"]))
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SsoStart:
    url: str
    state: str


class SsoSignInService:
    def __init__(
        self,
        store: Store,
        oidc: OidcClient,
        sign_in: SignInService,
        *,
        public_url: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._oidc = oidc
        self._sign_in = sign_in
        self._public_url = public_url
        self._now = clock

    def redirect_uri(self, practice_id: UUID) -> str:
        return f"{self._public_url}/sso/{practice_id}/callback"

    async def _config(self, practice_id: UUID) -> SsoConfig:
        config = await self._store.sso_configs.get(practice_id)
        if config is None:
            raise SsoRefused("not_configured")
        return config

    async def start(self, practice_id: UUID) -> SsoStart:
        """Remember state, nonce and PKCE verifier server-side; the browser keeps the state."""
        config = await self._config(practice_id)
        try:
            meta = await self._oidc.metadata(config)
        except TokenRejected as error:
            await self._audit(practice_id, "sso:unknown", "sso.refused", f"reason={error.reason}")
            raise SsoRefused("idp_error") from None
        state, nonce = new_token(), secrets.token_urlsafe(24)
        verifier, challenge = pkce_pair()
        now = self._now()
        flow = SignInFlow(FlowKind.SSO, practice_id, None, nonce, verifier, now, now + FLOW_TTL)
        await self._store.flows.add(flow, hash_secret(state))
        url = authorize_url(
            meta,
            client_id=config.client_id,
            redirect_uri=self.redirect_uri(practice_id),
            state=state,
            nonce=nonce,
            code_challenge=challenge,
        )
        return SsoStart(url, state)

    async def finish(
        self,
        practice_id: UUID,
        *,
        state: str,
        browser_state: str | None,
        code: str | None,
        error: str | None,
    ) -> NewSession:
        """The callback: one-time state bound to this browser, then the code, then the link."""
        if not state or not browser_state or not constant_time_equals(state, browser_state):
            await self.refuse(practice_id, "state", "state does not match this browser")
        flow = await self._store.flows.get(hash_secret(state), FlowKind.SSO, self._now())
        if flow is None or flow.practice_id != practice_id:
            await self.refuse(practice_id, "state", "unknown, expired or another practice's")
        if not await self._store.flows.remove(hash_secret(state)):
            await self.refuse(practice_id, "state", "already used")
        if error or not code:
            await self.refuse(practice_id, "idp_error", f"error={(error or 'no code')[:60]}")
        if not flow.nonce or not flow.code_verifier:
            await self.refuse(practice_id, "state", "incomplete flow")
        config = await self._config(practice_id)
        try:
            meta = await self._oidc.metadata(config)
            id_token = await self._oidc.exchange_code(
                config,
                meta,
                code=code,
                redirect_uri=self.redirect_uri(practice_id),
                code_verifier=flow.code_verifier,
            )
            claims = await self._oidc.validate(config, meta, id_token, nonce=flow.nonce)
        except TokenRejected as rejected:
            reason = "foreign_idp" if rejected.reason == "foreign_idp" else "invalid_token"
            await self.refuse(practice_id, reason, rejected.reason, rejected.detail)
        subject = subject_from_claims(config.link_rule, claims)
        return await self.open_linked(config, subject)

    async def open_linked(self, config: SsoConfig, subject: str | None) -> NewSession:
        """A session for the account SCIM linked to ``subject`` under ``config``; refused
        (and audited) when nobody was provisioned with it, or the account is deleted or
        deactivated. Shared by OpenID Connect and SAML."""
        practice_id = config.practice_id
        actor = f"sso:{(subject or 'unknown')[:80]}"
        user = None
        if subject is not None:
            user = await self._store.credentials.find_by_sso_link(
                practice_id, config.issuer, subject
            )
        claim = f"{config.protocol.value} {config.link_rule.claim}"
        if user is None:
            await self.refuse(practice_id, "not_provisioned", f"claim={claim}", actor=actor)
        if user.scim_deleted:
            await self.refuse(practice_id, "deleted", f"staff={user.id}", actor=actor)
        if not user.profile.active:
            await self.refuse(practice_id, "deactivated", f"staff={user.id}", actor=actor)
        return await self._sign_in.open_session(user, method=f"sso {claim}")

    async def refuse(
        self, practice_id: UUID, reason: str, *details: str, actor: str = "sso:unknown"
    ) -> NoReturn:
        detail = " ".join(d[:120] for d in details)
        await self._audit(practice_id, actor, "sso.refused", f"reason={reason} {detail}".strip())
        raise SsoRefused(reason)

    async def _audit(self, practice_id: UUID, actor: str, action: str, detail: str) -> None:
        await self._store.audit.record(AuditEntry(practice_id, actor, action, detail, self._now()))
