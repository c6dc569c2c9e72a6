"""A minimal OpenID provider, sans I/O: discovery, JWKS, authorize (auto-consent for a named
person) and the token endpoint (authorization code, client authentication, PKCE S256).

Requests come in as plain values and leave as ``Reply`` objects; ``simulators.idp.http``
serves them on loopback. Tests can also mint ID tokens directly (``id_token``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus, urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from simulators.idp.dialects import Dialect
    from simulators.idp.people import IdpPerson

__all__ = ["Client", "Reply", "SimulatedOidcIdp"]

CODE_TTL = 60


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    html: str | None = None
    xml: str | None = None


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str | None
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class _Grant:
    client_id: str
    redirect_uri: str
    person_key: str
    nonce: str | None
    challenge: str | None
    expires: float


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _error(status: int, code: str, description: str) -> Reply:
    return Reply(
        status,
        {"Cache-Control": "no-store"},
        json={"error": code, "error_description": description},
    )


class SimulatedOidcIdp:
    def __init__(
        self,
        dialect: Dialect,
        *,
        tenant: str = "contoso",
        people: Iterable[IdpPerson] = (),
        clock: Any = time.time,
    ) -> None:
        self.dialect = dialect
        self.tenant = tenant
        self.base_url = "http://127.0.0.1"
        self.people = {p.key: p for p in people}
        self.clients: dict[str, Client] = {}
        self.signed_in: str | None = None
        #: merged into every ID token (tests: a wrong ``aud``, an old ``exp``)
        self.token_overrides: dict[str, Any] = {}
        self._clock = clock
        self._grants: dict[str, _Grant] = {}
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8)})

    # -- set-up -------------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return self.dialect.issuer(self.tenant)

    @property
    def prefix(self) -> str:
        return self.dialect.prefix(self.tenant)

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}{self.prefix}{self.dialect.discovery_path}"

    def add_person(self, person: IdpPerson) -> IdpPerson:
        self.people[person.key] = person
        return person

    def register_client(
        self, client_id: str, client_secret: str | None, redirect_uris: Iterable[str]
    ) -> Client:
        client = Client(client_id, client_secret, tuple(redirect_uris))
        self.clients[client_id] = client
        return client

    def sign_in_as(self, key: str | None) -> None:
        """The person the browser is signed in as at the IdP (consent is automatic)."""
        self.signed_in = key

    def rotate_key(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8)})

    # -- endpoints ----------------------------------------------------------------------
    def route(self, method: str, path: str) -> str | None:
        """Which endpoint a request path names, if any."""
        for name in ("discovery", "authorize", "token", "jwks"):
            if path == self.prefix + getattr(self.dialect, f"{name}_path"):
                return name
        return None

    def discovery(self) -> Reply:
        base = self.base_url + self.prefix
        return Reply(
            200,
            json={
                "issuer": self.issuer,
                "authorization_endpoint": base + self.dialect.authorize_path,
                "token_endpoint": base + self.dialect.token_path,
                "jwks_uri": base + self.dialect.jwks_path,
                "response_types_supported": ["code"],
                "subject_types_supported": [
                    "pairwise" if self.dialect.name == "entra" else "public"
                ],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "code_challenge_methods_supported": ["S256"],
            },
        )

    def jwks(self) -> Reply:
        public = self.key.as_dict(private=False)
        return Reply(200, json={"keys": [{**public, "use": "sig", "alg": "RS256"}]})

    def authorize(self, params: Mapping[str, str]) -> Reply:
        client = self.clients.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if client is None or redirect_uri not in client.redirect_uris:
            # Never redirect to an address the client did not register (RFC 6749 §4.1.2.1).
            return Reply(400, html="<h1>Unknown client or unregistered redirect_uri</h1>")
        state = params.get("state")

        def back(**values: str) -> Reply:
            query = urlencode({**values, **({"state": state} if state else {})})
            return Reply(302, {"Location": f"{redirect_uri}?{query}"})

        if params.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if "openid" not in (params.get("scope") or "").split():
            return back(error="invalid_scope")
        challenge = params.get("code_challenge")
        if challenge and params.get("code_challenge_method", "plain") != "S256":
            return back(error="invalid_request", error_description="S256 only")
        key = params.get("login_hint") or self.signed_in
        person = self.people.get(key or "")
        if person is None:
            return Reply(200, html=self._chooser(params))
        if not person.active:
            return back(error="access_denied", error_description="the user is disabled")
        code = secrets.token_urlsafe(24)
        self._grants[code] = _Grant(
            client.client_id,
            redirect_uri,
            person.key,
            params.get("nonce"),
            challenge,
            self._clock() + CODE_TTL,
        )
        return back(code=code)

    def token(self, form: Mapping[str, str], authorization: str | None) -> Reply:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:].strip()).decode()
            raw_id, _, raw_secret = decoded.partition(":")
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        client = self.clients.get(client_id or "")
        if client is None or (
            client.client_secret is not None
            and not hmac.compare_digest(client.client_secret, secret or "")
        ):
            return _error(401, "invalid_client", "client authentication failed")
        if form.get("grant_type") != "authorization_code":
            return _error(400, "unsupported_grant_type", "authorization_code only")
        grant = self._grants.pop(form.get("code", ""), None)  # one use, RFC 6749 §4.1.2
        if grant is None or grant.expires < self._clock() or grant.client_id != client.client_id:
            return _error(400, "invalid_grant", "unknown, used or expired code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _error(400, "invalid_grant", "redirect_uri differs from the authorize request")
        if grant.challenge is not None:
            verifier = form.get("code_verifier") or ""
            if not hmac.compare_digest(_s256(verifier), grant.challenge):
                return _error(400, "invalid_grant", "PKCE verification failed")
        person = self.people[grant.person_key]
        return Reply(
            200,
            {"Cache-Control": "no-store"},
            json={
                "access_token": secrets.token_urlsafe(32),
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "openid profile email",
                "id_token": self.id_token(person, client.client_id, nonce=grant.nonce),
            },
        )

    # -- tokens -------------------------------------------------------------------------
    def id_token(
        self,
        person: IdpPerson,
        client_id: str,
        *,
        nonce: str | None,
        key: RSAKey | None = None,
        **overrides: Any,
    ) -> str:
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": client_id,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            **self.dialect.claims(person, client_id, self.tenant),
        }
        if "auth_time" in claims:
            claims["auth_time"] = now
        if nonce is not None:
            claims["nonce"] = nonce
        claims.update(self.token_overrides)
        claims.update(overrides)
        signer = key or self.key
        header = {"alg": "RS256", "kid": signer.kid or "", "typ": "JWT"}
        return jwt.encode(header, {k: v for k, v in claims.items() if v is not None}, signer)

    def _chooser(self, params: Mapping[str, str]) -> str:
        """No one signed in: a page to pick a person (for people trying the simulator)."""
        rows = "".join(
            f'<li><a href="?{escape(urlencode({**params, "login_hint": p.key}))}">'
            f"{escape(p.name)} ({escape(p.user_name)})</a></li>"
            for p in self.people.values()
        )
        return f"<h1>{escape(self.dialect.name)}: sign in as</h1><ul>{rows}</ul>"
