"""Real SSO sign-ins against scimlab for X-01: the practice's SSO is pointed at a simulated IdP
of the dialect (``simulators.idp``), then a browser's round trip is played, OpenID Connect
or SAML 2.0, and recorded as one exchange labelled ``sso.<protocol>.signin``: 303 with a
session cookie when the platform signed the person in, its refusal (403) otherwise.

The IdP keeps vouching for the person after the directory disables them (a session at the
IdP outlives the disable), so a refusal after ``disable`` is the platform's, not the IdP's.
The link rule follows the dialect's login (``SsoLogin``): SAML NameID = userName; OIDC
``oid`` (Entra) or ``sub`` (Okta) = externalId. OpenID Connect needs the platform to reach
the simulated IdP on 127.0.0.1; SAML does not (the IdP answers in-process).
"""

from __future__ import annotations

import contextlib
import html
import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from simulators.idp import (
    DIALECTS,
    SAML_DIALECTS,
    IdpPerson,
    SimulatedOidcIdp,
    SimulatedSamlIdp,
    person_from,
    serve,
)

if TYPE_CHECKING:
    import httpx

    from simulators.core.dialect import SsoLogin
    from simulators.core.recorder import Recorder

__all__ = ["PlatformSignIn"]

OIDC_RULES = {"entra": "oid:externalId", "okta": "sub:externalId"}
_FIELD = re.compile(r'name="(SAMLResponse|RelayState)" value="([^"]*)"')


def _cookies(response: httpx.Response) -> dict[str, str]:
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, value = header.partition(";")[0].strip().partition("=")
        if name and value.strip('"') and "max-age=0" not in header.lower():
            found[name] = value
    return found


class PlatformSignIn:
    def __init__(self, client: httpx.AsyncClient, scim_url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(scim_url)
        self.client, self.headers = client, headers
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.practice = parts.path.rstrip("/").rsplit("/", 1)[-1]
        self.configured: str | None = None
        self._oidc: SimulatedOidcIdp | None = None
        self._saml: SimulatedSamlIdp | None = None
        self._running = contextlib.ExitStack()

    @property
    def _sso_api(self) -> str:
        return f"{self.origin}/api/v1/practices/{self.practice}/sso"

    async def _configure(self, login: SsoLogin, idp: str) -> None:
        """PUT the practice's SSO for this protocol (once per protocol in a row)."""
        if self.configured == f"{login.protocol}:{idp}":
            return
        if login.protocol == "saml":
            self._saml = SimulatedSamlIdp(SAML_DIALECTS[idp], tenant=f"x01-{self.practice}")
            body: dict[str, Any] = {
                "protocol": "saml",
                "link_rule": "nameid:userName",
                "metadata_xml": self._saml.metadata(),
            }
        else:
            self._oidc = oidc = SimulatedOidcIdp(DIALECTS[idp], tenant=f"x01-{idp}")
            self._running.enter_context(serve(oidc))
            client_id, secret = f"x01-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
            oidc.register_client(client_id, secret, [f"{self.origin}/sso/{self.practice}/callback"])
            body = {
                "protocol": "oidc",
                "issuer": oidc.issuer,
                "client_id": client_id,
                "client_secret": secret,
                "link_rule": OIDC_RULES[idp],
                "metadata_url": oidc.discovery_url,
            }
        saved = await self.client.put(self._sso_api, json=body, headers=self.headers)
        if saved.status_code != 200:
            raise ValueError(f"configuring {login.protocol} SSO answered {saved.status_code}")
        if self._saml is not None and login.protocol == "saml":
            shown = saved.json()
            self._saml.register_sp(str(shown["sp_entity_id"]), str(shown["acs_url"]))
        self.configured = f"{login.protocol}:{idp}"

    async def sign_in(
        self, login: SsoLogin, idp: str, source: Any, recorder: Recorder, *, subject: str, at: float
    ) -> None:
        await self._configure(login, idp)
        person = person_from(source)
        person.active = True  # the IdP still vouches: only the platform may refuse
        start = await self.client.get(
            f"{self.origin}/sso/{self.practice}/start", follow_redirects=False
        )
        location = start.headers.get("location", "")
        if login.protocol == "saml":
            answer = await self._saml_round_trip(person, location, _cookies(start))
        else:
            answer = await self._oidc_round_trip(person, location, _cookies(start))
        opened = answer.status_code in (302, 303) and "scimlab_session" in _cookies(answer)
        redirected_without_session = answer.status_code in (302, 303) and not opened
        recorder.record(
            at=at,
            label=f"sso.{login.protocol}.signin",
            method=answer.request.method,
            url=str(answer.request.url),
            status=answer.status_code,
            response_body={"session": opened},
            error="redirected without a session cookie" if redirected_without_session else None,
            subject=subject,
        )

    async def _saml_round_trip(
        self, person: IdpPerson, location: str, cookies: dict[str, str]
    ) -> httpx.Response:
        assert self._saml is not None
        self._saml.add_person(person)
        self._saml.sign_in_as(person.key)
        reply = self._saml.sso(dict(parse_qsl(urlsplit(location).query)))
        fields = {k: html.unescape(v) for k, v in _FIELD.findall(reply.html or "")}
        return await self.client.post(
            f"{self.origin}/sso/{self.practice}/saml/acs",
            data=fields,
            headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
            follow_redirects=False,
        )

    async def _oidc_round_trip(
        self, person: IdpPerson, location: str, cookies: dict[str, str]
    ) -> httpx.Response:
        assert self._oidc is not None
        self._oidc.add_person(person)
        query = dict(parse_qsl(urlsplit(location).query))
        reply = self._oidc.authorize({**query, "login_hint": person.key})
        back = reply.headers.get("Location", f"{self.origin}/sso/{self.practice}/callback")
        return await self.client.get(
            back,
            headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
            follow_redirects=False,
        )

    async def close(self) -> None:
        """Remove the SSO configuration this run made and stop the simulated IdPs."""
        if self.configured is not None:
            await self.client.delete(self._sso_api, headers=self.headers)
        self._running.close()
