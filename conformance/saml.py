"""Signing in through the practice's SAML 2.0 identity provider, as a browser would, with the
suite playing a simulated Microsoft Entra ID (``simulators.idp``, real signatures).

The suite configures the practice's SSO through the platform (``PUT
/api/v1/practices/{id}/sso`` with ``protocol: saml``, the IdP's metadata uploaded as
``metadata_xml`` and the rule ``nameid:userName``: Entra's NameID is the UPN its SCIM client
sends as ``userName``, ``shared/idp-behaviors.md`` §1.9). The platform never has to reach
the IdP: a sign-in is ``GET /sso/{id}/start`` (a redirect carrying the AuthnRequest), the
IdP answered in-process, and the POST of its form to the platform's ACS with the cookies
``start`` set. So the SAML checks also run against a platform on another machine.

The evil IdP (``Attack``) makes each refused case; Entra signs only the assertion, the shape
signature wrapping aims at. A practice that already has SSO configured is left alone; what
the suite configures it removes when the check ends.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from conformance import actions, scim
from conformance.platform import platform
from conformance.sso import OWN_SSO, REDIRECTS, SignIn, Sso, cookies_set
from simulators.idp import SAML_ENTRA, IdpPerson, SimulatedSamlIdp

if TYPE_CHECKING:
    from conformance.platform import Platform
    from conformance.session import Session
    from simulators.idp import Attack

__all__ = ["SAML_RULE", "SamlSso", "saml_sso"]

SAML_RULE = "nameid:userName"
TENANT = "6c2f3e0a-5d7b-4c1e-9a8f-2b4d6e8f0a1c"
_FIELD = re.compile(r'name="(SAMLResponse|RelayState)" value="([^"]*)"')


class SamlSso(Sso):
    """The practice's SSO pointed at the suite's simulated Entra ID (SAML), for one check."""

    def __init__(self, s: Session, admin: Platform, idp: SimulatedSamlIdp, acs_url: str) -> None:
        super().__init__(s, admin, idp)
        self.idp = idp
        self.acs_url = acs_url
        self.sp_entity_id = ""

    def person(self, label: str, *, email: str | None = None) -> IdpPerson:
        key = self._s.unique(label)
        return self.idp.add_person(IdpPerson(key, f"{key}@example.org", "Sam", "Osei", email=email))

    async def provision(self, person: IdpPerson) -> dict[str, Any]:
        """Create the person over SCIM as Entra does (``userName`` = UPN, ``externalId`` =
        object id with the common mapping)."""
        email = {"value": person.primary_email, "type": "work", "primary": True}
        body = scim.user_body(person.user_name, externalId=person.object_id, emails=[email])
        return await actions.create_user(self._s, "saml", body=body)

    async def post(self, fields: dict[str, str], cookies: dict[str, str] | None = None) -> SignIn:
        """POST a form to the ACS, as the IdP's auto-submitting page does."""
        answer = await self.browse("POST", self.acs_url, cookies, fields)
        return SignIn(answer, cookies_set(answer))

    async def sign_in(self, person: IdpPerson, attack: Attack | None = None) -> SignIn:
        """SP-initiated: start at the platform, the IdP answers (evil when ``attack``)."""
        s, idp = self._s, self.idp
        start = await self.browse("GET", f"/sso/{self.admin.practice_id}/start")
        location = start.headers.get("location", "")
        if start.status_code not in REDIRECTS or not location.startswith(idp.sso_url.split("?")[0]):
            s.fail("starting an SSO sign-in did not lead to the SAML identity provider", start)
        idp.sign_in_as(person.key)
        idp.evil = attack
        try:
            reply = idp.sso(dict(parse_qsl(urlsplit(location).query)))
        finally:
            idp.evil = None
        fields = {name: html.unescape(value) for name, value in _FIELD.findall(reply.html or "")}
        if reply.status != 200 or "SAMLResponse" not in fields:
            s.fail(f"the SAML identity provider refused the AuthnRequest: {reply.html}", start)
        return await self.post(fields, cookies_set(start))

    async def idp_initiated(self, person: IdpPerson) -> SignIn:
        """The app tile in the IdP's portal: an unsolicited response, no state cookie."""
        _, response = self.idp.idp_initiated(person, self.sp_entity_id)
        return await self.post({"SAMLResponse": response})


async def saml_sso(s: Session, *, idp_initiated: bool | None = None) -> SamlSso:
    """The practice's SSO configured with a simulated Entra ID (SAML) until the check ends;
    ``idp_initiated`` is sent only when given (so the platform's default shows)."""
    admin = platform(s)
    shown = await admin.api("GET", "/sso")
    if shown.status_code == 200:
        s.not_applicable(OWN_SSO)
    s.expect(shown.status_code == 404, "reading the SSO configuration: not 200 or 404", shown)
    idp = SimulatedSamlIdp(SAML_ENTRA, tenant=TENANT)
    idp.base_url = "https://login.microsoftonline.com"

    async def remove() -> None:
        response = await admin.api("DELETE", "/sso")
        if response.status_code not in (204, 404):
            raise RuntimeError(f"removing the SSO configuration answered {response.status_code}")

    s.defer(remove)
    body: dict[str, Any] = {
        "protocol": "saml",
        "link_rule": SAML_RULE,
        "metadata_xml": idp.metadata(),
    }
    if idp_initiated is not None:
        body["idp_initiated"] = idp_initiated
    saved = await admin.api("PUT", "/sso", body)
    config = s.expect_status(saved, 200, doing="configuring SSO with a simulated SAML Entra ID")
    practice = admin.practice_id
    config = config if isinstance(config, dict) else {}
    entity = str(config.get("sp_entity_id") or f"{admin.url}/sso/{practice}/saml/metadata")
    acs = str(config.get("acs_url") or f"{admin.url}/sso/{practice}/saml/acs")
    idp.register_sp(entity, acs)
    harness = SamlSso(s, admin, idp, acs)
    harness.sp_entity_id = entity
    return harness
