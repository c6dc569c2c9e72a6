"""Each identity provider's OpenID Connect shape: issuer, endpoint paths and ID token claims.

Sources: Microsoft identity platform ID token claims reference (v2.0: ``oid``, ``tid``,
``preferred_username``, pairwise ``sub``); Okta OIDC reference (``sub`` = ``00u…`` user id,
``ver`` 1, ``amr``, ``idp``); Google OpenID Connect (numeric ``sub``, ``hd``, ``azp``,
``email_verified``). See ``../shared/idp-behaviors.md`` §1.9, §2.9, §3.6.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from simulators.idp.people import IdpPerson

__all__ = ["DIALECTS", "ENTRA", "GOOGLE", "OKTA", "Dialect"]

Claims = dict[str, Any]


@dataclass(frozen=True)
class Dialect:
    name: str
    #: issuer from the tenant (Entra tenant id, Okta org subdomain; Google has one issuer)
    issuer: Callable[[str], str]
    #: path prefix on the loopback server, from the tenant
    prefix: Callable[[str], str]
    discovery_path: str
    authorize_path: str
    token_path: str
    jwks_path: str
    #: claims of this IdP beyond iss/aud/exp/iat/nonce, for (person, client id, tenant)
    claims: Callable[[IdpPerson, str, str], Claims]


def _entra_claims(person: IdpPerson, client_id: str, tenant: str) -> Claims:
    # sub is pairwise per application: never the same as oid, different for every client.
    pairwise = hashlib.sha256(f"{person.object_id}:{client_id}".encode()).digest()
    return {
        "ver": "2.0",
        "sub": base64.urlsafe_b64encode(pairwise).rstrip(b"=").decode(),
        "oid": person.object_id,
        "tid": tenant,
        "preferred_username": person.user_name,
        "name": person.name,
        "email": person.primary_email,
    }


def _okta_claims(person: IdpPerson, client_id: str, tenant: str) -> Claims:
    return {
        "ver": 1,
        "sub": person.okta_id,
        "jti": "ID." + secrets.token_urlsafe(16),
        "amr": ["pwd"],
        "idp": "00o" + hashlib.sha256(tenant.encode()).hexdigest()[:17],
        "auth_time": None,  # filled with iat by the IdP
        "email": person.primary_email,
        "email_verified": True,
        "name": person.name,
        "preferred_username": person.user_name,
    }


def _google_claims(person: IdpPerson, client_id: str, tenant: str) -> Claims:
    claims: Claims = {
        "azp": client_id,
        "sub": person.google_id,
        "email": person.primary_email,
        "email_verified": True,
        "name": person.name,
        "given_name": person.given_name,
        "family_name": person.family_name,
    }
    domain = person.primary_email.rpartition("@")[2]
    if domain and domain != "gmail.com":
        claims["hd"] = domain  # hosted domain: a Workspace account
    return claims


ENTRA = Dialect(
    name="entra",
    issuer=lambda tenant: f"https://login.microsoftonline.com/{tenant}/v2.0",
    prefix=lambda tenant: f"/{tenant}",
    discovery_path="/v2.0/.well-known/openid-configuration",
    authorize_path="/oauth2/v2.0/authorize",
    token_path="/oauth2/v2.0/token",  # noqa: S106 - a path, not a secret
    jwks_path="/discovery/v2.0/keys",
    claims=_entra_claims,
)

OKTA = Dialect(
    name="okta",
    issuer=lambda tenant: f"https://{tenant}.okta.com/oauth2/default",
    prefix=lambda tenant: "/oauth2/default",
    discovery_path="/.well-known/openid-configuration",
    authorize_path="/v1/authorize",
    token_path="/v1/token",  # noqa: S106 - a path, not a secret
    jwks_path="/v1/keys",
    claims=_okta_claims,
)

GOOGLE = Dialect(
    name="google",
    issuer=lambda tenant: "https://accounts.google.com",
    prefix=lambda tenant: "",
    discovery_path="/.well-known/openid-configuration",
    authorize_path="/o/oauth2/v2/auth",
    token_path="/token",  # noqa: S106 - a path, not a secret
    jwks_path="/oauth2/v3/certs",
    claims=_google_claims,
)

DIALECTS = {d.name: d for d in (ENTRA, OKTA, GOOGLE)}
