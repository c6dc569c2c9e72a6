"""The relying-party side of OpenID Connect: discovery, PKCE, the code exchange and ID token
checks. It knows HTTP (httpx) and JOSE (joserfc), nothing about the web framework.

ID token validation follows OpenID Connect Core 1.0 §3.1.3.7: the signature against the
issuer's JWKS (asymmetric algorithms only: no ``none``, no HMAC keyed by a public value),
``iss`` exactly the practice's issuer, ``aud`` containing its client id (``azp`` when there
are several audiences), ``exp`` in the future, and the ``nonce`` this sign-in sent.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlencode

import httpx
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable

    from server.domain.sso import SsoConfig

__all__ = [
    "ALGORITHMS",
    "IdpMetadata",
    "OidcClient",
    "TokenRejected",
    "authorize_url",
    "pkce_pair",
    "tls",
    "verify_id_token",
]

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]
LEEWAY_SECONDS = 60


class TokenRejected(Exception):
    """The sign-in cannot be trusted. ``reason`` is short and safe to audit."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class IdpMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge), RFC 7636 §4.1-§4.2."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    meta: IdpMetadata,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    nonce: str,
    code_challenge: str,
) -> str:
    """The authentication request, OpenID Connect Core §3.1.2.1 with PKCE."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if "?" in meta.authorization_endpoint else "?"
    return f"{meta.authorization_endpoint}{separator}{query}"


def _unverified_claims(token: str) -> dict[str, Any]:
    """Claims read without trust, only to say *why* a token was refused."""
    try:
        payload = token.split(".")[1]
        decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(decoded)
    except (IndexError, ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def verify_id_token(
    token: str, keys: KeySet, *, issuer: str, client_id: str, nonce: str, now: int
) -> dict[str, Any]:
    """The claims of a valid ID token for this practice; ``TokenRejected`` otherwise."""
    try:
        decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
    except InvalidKeyIdError:
        raise  # the caller refreshes the JWKS once and tries again
    except JoseError as error:
        if _unverified_claims(token).get("iss") not in (None, issuer):
            raise TokenRejected("foreign_idp", "signed by another identity provider") from None
        raise TokenRejected("bad_signature", error.error) from None
    except ValueError:
        raise TokenRejected("malformed", "not a signed JWT") from None
    claims = dict(decoded.claims)
    if claims.get("iss") != issuer:
        raise TokenRejected("foreign_idp", f"iss is {str(claims.get('iss'))[:100]!r}")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise TokenRejected("foreign_idp", "aud does not name this practice's client")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise TokenRejected("foreign_idp", "azp does not name this practice's client")
    registry = jwt.JWTClaimsRegistry(
        now=now, leeway=LEEWAY_SECONDS, exp={"essential": True}, iat={"essential": False}
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise TokenRejected("expired", "the ID token has expired") from None
    except JoseError as error:
        raise TokenRejected("invalid_claims", error.error) from None
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not secrets.compare_digest(sent, nonce):
        raise TokenRejected("nonce_mismatch", "the nonce is not the one this sign-in sent")
    return claims


@functools.cache
def tls() -> ssl.SSLContext:
    """The TLS settings of every request to an IdP, made once per process: a new client
    otherwise loads the whole CA bundle again."""
    return httpx.create_ssl_context()


class OidcClient:
    """Fetches the IdP's metadata and keys (cached), exchanges codes, checks ID tokens."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        cache_seconds: float = 300,
    ) -> None:
        self._transport = transport
        self._clock = clock
        self._ttl = cache_seconds
        self._metadata: dict[str, tuple[float, IdpMetadata]] = {}
        self._keys: dict[str, tuple[float, KeySet]] = {}

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self._transport, timeout=10, follow_redirects=False, verify=tls()
        )

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self._client() as http:
                response = await http.get(url, headers={"Accept": "application/json"})
            body = response.json()
        except (httpx.HTTPError, ValueError):
            raise TokenRejected("idp_unreachable", f"could not read {url[:200]}") from None
        if response.status_code != 200 or not isinstance(body, dict):
            raise TokenRejected("idp_unreachable", f"{url[:200]} answered {response.status_code}")
        return body

    async def metadata(self, config: SsoConfig) -> IdpMetadata:
        cached = self._metadata.get(config.discovery_url)
        if cached and cached[0] > self._clock():
            return cached[1]
        doc = await self._get_json(config.discovery_url)
        if doc.get("issuer") != config.issuer:  # OpenID Connect Discovery 1.0 §4.3
            raise TokenRejected("foreign_idp", "the discovery document names another issuer")
        try:
            meta = IdpMetadata(
                issuer=str(doc["issuer"]),
                authorization_endpoint=str(doc["authorization_endpoint"]),
                token_endpoint=str(doc["token_endpoint"]),
                jwks_uri=str(doc["jwks_uri"]),
            )
        except KeyError as missing:
            raise TokenRejected("idp_unreachable", f"discovery lacks {missing}") from None
        self._metadata[config.discovery_url] = (self._clock() + self._ttl, meta)
        return meta

    async def _key_set(self, jwks_uri: str, *, refresh: bool) -> KeySet:
        cached = self._keys.get(jwks_uri)
        if cached and cached[0] > self._clock() and not refresh:
            return cached[1]
        try:
            keys = KeySet.import_key_set(await self._get_json(jwks_uri))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError):
            raise TokenRejected("idp_unreachable", "the JWKS could not be read") from None
        self._keys[jwks_uri] = (self._clock() + self._ttl, keys)
        return keys

    async def exchange_code(
        self,
        config: SsoConfig,
        meta: IdpMetadata,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
    ) -> str:
        """RFC 6749 §4.1.3 with the PKCE verifier; returns the ID token."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        headers = {"Accept": "application/json"}
        if config.client_secret:  # client_secret_basic: each part form-encoded, RFC 6749 §2.3.1
            pair = f"{quote_plus(config.client_id)}:{quote_plus(config.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form["client_id"] = config.client_id
        try:
            async with self._client() as http:
                response = await http.post(meta.token_endpoint, data=form, headers=headers)
            body = response.json()
        except (httpx.HTTPError, ValueError):
            raise TokenRejected("token_exchange", "the token endpoint did not answer") from None
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise TokenRejected("token_exchange", f"the token endpoint refused: {error}")
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise TokenRejected("token_exchange", "no id_token in the token response")
        return id_token

    async def validate(
        self, config: SsoConfig, meta: IdpMetadata, id_token: str, *, nonce: str
    ) -> dict[str, Any]:
        now = int(self._clock())
        keys = await self._key_set(meta.jwks_uri, refresh=False)
        check = {"issuer": config.issuer, "client_id": config.client_id, "nonce": nonce}
        try:
            return verify_id_token(id_token, keys, now=now, **check)
        except InvalidKeyIdError:
            pass  # a rotated key: fetch the set again, once
        keys = await self._key_set(meta.jwks_uri, refresh=True)
        try:
            return verify_id_token(id_token, keys, now=now, **check)
        except InvalidKeyIdError:
            if _unverified_claims(id_token).get("iss") not in (None, config.issuer):
                raise TokenRejected("foreign_idp", "signed by another identity provider") from None
            raise TokenRejected(
                "bad_signature", "signed with a key the issuer does not publish"
            ) from None
