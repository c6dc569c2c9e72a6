"""Staff sign-in through the practice's SAML 2.0 identity provider.

SP-initiated: ``start`` keeps the AuthnRequest id server-side under a one-time state that
travels as RelayState and in a cookie of this browser; the ACS accepts only the answer to
that request. IdP-initiated (no state cookie): refused unless the practice turned it on,
and then only a response that answers no request. After verification (``server.sso.saml``)
the assertion id is spent (a replay is refused) and the account is the one SCIM linked
(``SsoSignInService.open_linked``): nothing is created or linked here. A signature by a
certificate the practice does not know yet sends the service back to the IdP's metadata URL
once (a rotation the administrator did not have to copy by hand).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from server.domain.clock import utcnow
from server.domain.errors import InvalidValue
from server.domain.signin import FlowKind, SignInFlow, new_token
from server.domain.sso import SsoProtocol, subject_from_assertion
from server.security import constant_time_equals, hash_secret
from server.sso.saml import (
    AssertionRejected,
    SpIdentity,
    authn_request,
    sp_metadata,
    verify_response,
)
from server.sso.saml_metadata import new_sp_key, parse_idp_metadata
from server.sso.saml_setup import fetch_metadata
from server.sso.service import FLOW_TTL, SsoStart

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from server.domain.ports import Store
    from server.domain.signin import NewSession
    from server.domain.sso import SsoConfig, SsoConfigService
    from server.sso.service import SsoSignInService

__all__ = ["METADATA_REFRESH", "SamlSignInService"]

METADATA_REFRESH = timedelta(minutes=5)


class SamlSignInService:
    def __init__(
        self,
        store: Store,
        sso: SsoSignInService,
        configs: SsoConfigService,
        *,
        public_url: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._sso = sso
        self._configs = configs
        self._public_url = public_url
        self._now = clock
        self._refreshed_at: dict[UUID, datetime] = {}

    def entity_id(self, practice_id: UUID) -> str:
        """The SP entity id is the metadata URL (the convention all three IdPs accept)."""
        return f"{self._public_url}/sso/{practice_id}/saml/metadata"

    def acs_url(self, practice_id: UUID) -> str:
        return f"{self._public_url}/sso/{practice_id}/saml/acs"

    async def sp(self, practice_id: UUID) -> SpIdentity:
        """The practice as a service provider; its key pair is made on first use."""
        stored = await self._store.saml.sp_key(practice_id)
        if stored is None:
            key, cert = await asyncio.to_thread(new_sp_key, f"scimlab SP {practice_id}")
            if not await self._store.saml.add_sp_key(practice_id, key, cert, self._now()):
                stored = await self._store.saml.sp_key(practice_id)
            stored = stored or (key, cert)
        key, cert = stored
        return SpIdentity(self.entity_id(practice_id), self.acs_url(practice_id), key, cert)

    async def metadata(self, practice_id: UUID) -> str:
        return await asyncio.to_thread(sp_metadata, await self.sp(practice_id))

    async def _config(self, practice_id: UUID) -> SsoConfig:
        config = await self._store.sso_configs.get(practice_id)
        if config is None or config.protocol is not SsoProtocol.SAML or config.saml is None:
            await self._sso.refuse(practice_id, "not_configured", "protocol=saml")
        return config

    async def start(self, practice_id: UUID) -> SsoStart:
        """A signed AuthnRequest on the Redirect binding; RelayState is the browser's state."""
        config = await self._config(practice_id)
        assert config.saml is not None  # checked by _config
        state = new_token()
        request_id, url = await asyncio.to_thread(
            authn_request, await self.sp(practice_id), config.saml, relay_state=state
        )
        now = self._now()
        # nonce carries the request id; no code verifier marks the flow as SAML's.
        flow = SignInFlow(FlowKind.SSO, practice_id, None, request_id, None, now, now + FLOW_TTL)
        await self._store.flows.add(flow, hash_secret(state))
        return SsoStart(url, state)

    async def _request_id(
        self, practice_id: UUID, config: SsoConfig, relay_state: str, browser_state: str | None
    ) -> str | None:
        """The AuthnRequest this browser started (spent now), or None for an IdP-initiated
        sign-in the practice allows."""
        assert config.saml is not None
        if not browser_state:
            if not config.saml.idp_initiated:
                await self._sso.refuse(practice_id, "idp_initiated", "IdP-initiated is off")
            return None
        if not relay_state or not constant_time_equals(relay_state, browser_state):
            await self._sso.refuse(practice_id, "state", "RelayState does not match this browser")
        token = hash_secret(relay_state)
        flow = await self._store.flows.get(token, FlowKind.SSO, self._now())
        if flow is None or flow.practice_id != practice_id or flow.code_verifier is not None:
            await self._sso.refuse(practice_id, "state", "unknown, expired or not a SAML flow")
        if not await self._store.flows.remove(token) or not flow.nonce:
            await self._sso.refuse(practice_id, "state", "already used")
        return flow.nonce

    async def _renewed(self, config: SsoConfig) -> SsoConfig | None:
        """The IdP rotated its certificate: when the practice gave a metadata URL, read it again
        (at most every ``METADATA_REFRESH``) and keep its certificates if they changed, as the
        OIDC client refetches a JWKS for an unknown key. None when nothing changed."""
        idp, now = config.saml, self._now()
        last = self._refreshed_at.get(config.practice_id)
        if idp is None or not idp.metadata_url or (last and now - last < METADATA_REFRESH):
            return None
        self._refreshed_at[config.practice_id] = now
        try:
            found = parse_idp_metadata((await fetch_metadata(idp.metadata_url)).encode("utf-8"))
        except (InvalidValue, ValueError):
            return None
        if found.entity_id != idp.entity_id or set(found.certificates) == set(idp.certificates):
            return None
        renewed, _ = await self._configs.configure_saml(
            config.practice_id,
            entity_id=idp.entity_id,
            sso_url=idp.sso_url,
            certificates=found.certificates,
            link_rule=config.link_rule.value,
            name_id_format=idp.name_id_format,
            idp_initiated=idp.idp_initiated,
            metadata_url=idp.metadata_url,
            actor="sso:metadata-refresh",
        )
        return renewed

    async def finish(
        self,
        practice_id: UUID,
        *,
        saml_response: str,
        relay_state: str,
        browser_state: str | None,
    ) -> NewSession:
        """The ACS: the request binding, the verified assertion, replay, then the link."""
        config = await self._config(practice_id)
        assert config.saml is not None
        request_id = await self._request_id(practice_id, config, relay_state, browser_state)
        if not saml_response:
            await self._sso.refuse(practice_id, "idp_error", "no SAMLResponse")
        sp = await self.sp(practice_id)
        try:
            assertion = await asyncio.to_thread(
                verify_response, sp, config.saml, saml_response, request_id=request_id
            )
        except AssertionRejected as rejected:
            renewed = await self._renewed(config) if rejected.reason == "bad_signature" else None
            if renewed is None or renewed.saml is None:
                await self._sso.refuse(practice_id, rejected.reason, rejected.detail)
            try:
                assertion = await asyncio.to_thread(
                    verify_response, sp, renewed.saml, saml_response, request_id=request_id
                )
            except AssertionRejected as again:
                await self._sso.refuse(practice_id, again.reason, again.detail)
        now = self._now()
        fresh = await self._store.saml.use_assertion(
            practice_id, assertion.assertion_id, assertion.expires_at + timedelta(minutes=5), now
        )
        if not fresh:
            await self._sso.refuse(practice_id, "replayed", f"assertion={assertion.assertion_id}")
        subject = subject_from_assertion(config.link_rule, assertion.name_id, assertion.attributes)
        return await self._sso.open_linked(config, subject)
