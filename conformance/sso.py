"""Signing in through the practice's identity provider, as a browser would, with the suite
playing the identity provider too.

For a check that needs SSO, the suite serves a simulated Okta (``simulators.idp``) on
127.0.0.1, registers the practice as its client and configures the practice's SSO through
the platform (``PUT /api/v1/practices/{id}/sso``) with Okta's link rule ``sub:externalId``:
the ID token's ``sub`` is the ``00u…`` user id Okta's SCIM client sends as ``externalId``
(``shared/idp-behaviors.md`` §2.9). People are provisioned over SCIM with that id. A sign-in
is ``GET /sso/{id}/start``, the IdP's authorize endpoint (answered in-process, the
person consenting), then ``GET`` of the callback with the cookies ``start`` set; every
request to the platform is recorded as evidence.

The platform must reach the IdP's discovery, token and key endpoints on loopback, so
these checks run against a platform on the same machine; when it cannot, they are "not
applicable". A practice that already has SSO configured is left alone: its client secret is
write-only, so the suite could not put it back. What the suite configures it removes
(``DELETE .../sso``) when the check ends.

Cookies are read from ``Set-Cookie`` and sent back in a ``Cookie`` header: the console's
cookies are ``Secure``, and a cookie jar would not send them to a platform on plain http.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from conformance import actions, scim
from conformance.platform import platform
from simulators.idp import OKTA, IdpPerson, Reply, SimulatedOidcIdp, serve

if TYPE_CHECKING:
    import httpx

    from conformance.platform import Platform
    from conformance.session import Session

__all__ = ["LINK_RULE", "OWN_SSO", "Sso", "cookies_set", "sso"]

LINK_RULE = "sub:externalId"
OWN_SSO = (
    "the practice has its own SSO configuration; the suite does not overwrite it (its "
    "client secret is write-only, so it could not be put back)"
)
UNREACHABLE = (
    "the platform did not fetch the simulated identity provider's discovery document at "
    "{url}: the SSO checks need a platform on this machine, which can reach 127.0.0.1"
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
_EXPIRED = re.compile(r"max-age\s*=\s*0\b|expires\s*=\s*thu,\s*01 jan 1970", re.IGNORECASE)


class _Idp(SimulatedOidcIdp):
    """The simulated Okta, counting discovery requests (to tell whether the platform
    reached it at all)."""

    def __init__(self, tenant: str) -> None:
        super().__init__(OKTA, tenant=tenant)
        self.discoveries = 0

    def discovery(self) -> Reply:
        self.discoveries += 1
        return super().discovery()


def cookies_set(response: httpx.Response) -> dict[str, str]:
    """The cookies a response sets, as a browser keeps them (deletions left out)."""
    found: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        if name and value.strip('"') and not _EXPIRED.search(attributes):
            found[name] = value
    return found


@dataclass(frozen=True, slots=True)
class SignIn:
    """One SSO sign-in: the platform's answer to the callback and the cookies it set."""

    callback: httpx.Response
    cookies: dict[str, str]


class _People(Protocol):
    def add_person(self, person: IdpPerson) -> IdpPerson: ...


class Sso:
    """The practice's SSO pointed at the suite's simulated Okta, for one check
    (``conformance.saml.SamlSso``: a simulated SAML IdP)."""

    def __init__(self, s: Session, admin: Platform, idp: _People) -> None:
        self._s = s
        self.admin = admin
        self._idp = idp

    # --- people --------------------------------------------------------------------------
    def person(self, label: str, *, email: str | None = None) -> IdpPerson:
        """Someone the identity provider knows (not provisioned yet)."""
        key = self._s.unique(label)
        person = IdpPerson(key, f"{key}@example.org", "Sam", "Osei", email=email)
        return self._idp.add_person(person)

    async def provision(self, person: IdpPerson) -> dict[str, Any]:
        """Create the person over SCIM as Okta does (``externalId`` = Okta user id)."""
        email = {"value": person.primary_email, "type": "work", "primary": True}
        body = scim.user_body(person.user_name, externalId=person.okta_id, emails=[email])
        return await actions.create_user(self._s, "sso", body=body)

    # --- the browser ---------------------------------------------------------------------
    async def browse(
        self,
        method: str,
        path_or_url: str,
        cookies: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A browser request to the platform, with exactly ``cookies`` (the injected
        client's own cookie jar is kept out of it) and no redirect followed."""
        url = path_or_url if "://" in path_or_url else self.admin.url + path_or_url
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        response = await self._s.request(
            method, url, headers=headers, data=form, follow_redirects=False
        )
        for header in response.headers.get_list("set-cookie"):
            self._s.client.cookies.delete(header.partition("=")[0].strip())
        return response

    async def sign_in(self, person: IdpPerson) -> SignIn:
        """Start at the platform, consent at the identity provider as ``person``, come back."""
        s, idp = self._s, self._idp
        assert isinstance(idp, _Idp)
        start = await self.browse("GET", f"/sso/{self.admin.practice_id}/start")
        location = start.headers.get("location", "")
        authorize = idp.base_url + idp.prefix + OKTA.authorize_path
        if start.status_code not in REDIRECTS or not location.startswith(authorize):
            if idp.discoveries == 0:
                s.not_applicable(UNREACHABLE.format(url=idp.discovery_url))
            s.fail("starting an SSO sign-in did not lead to the identity provider", start)
        query = dict(parse_qsl(urlsplit(location).query))
        reply = idp.authorize({**query, "login_hint": person.key})
        back = reply.headers.get("Location", "")
        if reply.status != 302 or not back:
            why = reply.json or reply.html
            s.fail(f"the identity provider refused the platform's request: {why}", start)
        callback = await self.browse("GET", back, cookies_set(start))
        return SignIn(callback, cookies_set(callback))

    async def console(self, cookies: dict[str, str]) -> httpx.Response:
        """The signed-in person's own console page (``/console/account``)."""
        return await self.browse("GET", "/console/account", cookies)

    async def expect_signed_in(self, person: IdpPerson) -> tuple[dict[str, str], httpx.Response]:
        """An SSO sign-in that must open a working session: its cookies and account page."""
        attempt = await self.sign_in(person)
        status = attempt.callback.status_code
        refused = f"the SSO sign-in of provisioned user {person.user_name} did not open a session"
        if status not in REDIRECTS or not attempt.cookies:
            self._s.fail(f"{refused} (the callback answered {status})", attempt.callback)
        account = await self.console(attempt.cookies)
        if account.status_code != 200:
            self._s.fail(f"{refused} (its console page answered {account.status_code})", account)
        return attempt.cookies, account

    async def expect_refused(self, person: IdpPerson, who: str) -> SignIn:
        """An SSO sign-in that must not open a working session."""
        attempt = await self.sign_in(person)
        status = attempt.callback.status_code
        self._s.expect(status < 500, f"the SSO callback for {who} answered {status}", None)
        if attempt.cookies:
            account = await self.console(attempt.cookies)
            if account.status_code == 200:
                self._s.fail(f"{who} signed in through the identity provider", account)
        return attempt

    async def submit(self, path: str, fields: dict[str, str]) -> httpx.Response:
        """Open the console form at ``path`` and post ``fields`` with its CSRF token."""
        page = await self.browse("GET", path)
        self._s.expect(page.status_code == 200, f"opening {path} answered {page.status_code}", page)
        found = _CSRF.search(page.text)
        token = {"csrf_token": found.group(1)} if found else {}
        return await self.browse("POST", path, cookies_set(page), {**fields, **token})


async def sso(s: Session) -> Sso:
    """The practice's SSO configured with a simulated Okta until the check ends; not
    applicable without the platform or when the practice already has SSO."""
    admin = platform(s)
    shown = await admin.api("GET", "/sso")
    if shown.status_code == 200:
        s.not_applicable(OWN_SSO)
    s.expect(shown.status_code == 404, "reading the SSO configuration: not 200 or 404", shown)
    idp = _Idp(tenant=f"conform-{s.run_tag}")
    running = contextlib.ExitStack()
    running.enter_context(serve(idp))

    async def stop() -> None:
        running.close()

    async def remove() -> None:
        response = await admin.api("DELETE", "/sso")
        if response.status_code not in (204, 404):
            raise RuntimeError(f"removing the SSO configuration answered {response.status_code}")

    s.defer(stop)
    s.defer(remove)
    client_id, secret = f"scimlab-conform-{s.run_tag}", secrets.token_urlsafe(24)
    s.redactor.add(secret)
    body = {
        "issuer": idp.issuer,
        "client_id": client_id,
        "client_secret": secret,
        "link_rule": LINK_RULE,
        "metadata_url": idp.discovery_url,
    }
    saved = await admin.api("PUT", "/sso", body)
    config = s.expect_status(saved, 200, doing="configuring SSO with a simulated Okta")
    default = f"{admin.url}/sso/{admin.practice_id}/callback"
    redirect_uri = config.get("redirect_uri", default) if isinstance(config, dict) else default
    idp.register_client(client_id, secret, [str(redirect_uri)])
    return Sso(s, admin, idp)
