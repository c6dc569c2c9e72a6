"""Helpers for SAML sign-in in-process: configure a practice with a simulated SAML IdP, walk
the browser through SP-initiated sign-in, post IdP-initiated responses."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from server.domain.sso import LinkRule
from server.sso.saml_setup import SamlInput, configure_saml

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from server.services import Services
    from simulators.idp import IdpPerson, SimulatedSamlIdp
    from tests.console.helpers import ConsolePractice

_FIELD = re.compile(r'name="(SAMLResponse|RelayState)" value="([^"]*)"')


def saml_scim_body(idp: SimulatedSamlIdp, person: IdpPerson) -> dict[str, Any]:
    """What each IdP sends over SCIM when it creates the person (idp-behaviors §1.3, §2.3,
    §3.4): Entra's externalId <- objectId mapping, Okta's 00u id, Google none."""
    external_id = {"entra": person.object_id, "okta": person.okta_id, "google": None}[
        idp.dialect.name
    ]
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": person.user_name,
        "name": {"givenName": person.given_name, "familyName": person.family_name},
        "emails": [{"value": person.primary_email, "type": "work", "primary": True}],
        "active": True,
    }
    if external_id:
        body["externalId"] = external_id
    return body


async def configure_saml_sso(
    services: Services,
    practice: ConsolePractice,
    idp: SimulatedSamlIdp,
    *,
    rule: LinkRule = LinkRule.SAML_NAMEID,
    idp_initiated: bool = False,
) -> None:
    """Register the practice's SP at the IdP and choose SAML with the IdP's metadata URL."""
    idp.register_sp(services.saml.entity_id(practice.uuid), services.saml.acs_url(practice.uuid))
    given = SamlInput(
        link_rule=rule.value, metadata_url=idp.metadata_url, idp_initiated=idp_initiated
    )
    await configure_saml(services.sso_configs, practice.uuid, given, actor="test")


def form_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _FIELD.findall(page)}


async def saml_sign_in(web: AsyncTestClient[Any], practice: ConsolePractice) -> httpx.Response:
    """Start at the practice, let the IdP answer, post its form to the ACS: the ACS's answer."""
    started = await web.get(f"/sso/{practice.id}/start")
    assert started.status_code == 303, started.text
    async with httpx.AsyncClient() as browser:
        answered = await browser.get(started.headers["location"])
    assert answered.status_code == 200, answered.text
    action = re.search(r'<form method="post" action="([^"]+)"', answered.text)
    assert action, answered.text
    return await web.post(
        urlsplit(html.unescape(action.group(1))).path, data=form_fields(answered.text)
    )


async def post_to_acs(
    web: AsyncTestClient[Any], practice: ConsolePractice, response: str, relay: str | None = None
) -> httpx.Response:
    data = {"SAMLResponse": response, **({"RelayState": relay} if relay else {})}
    return await web.post(f"/sso/{practice.id}/saml/acs", data=data)
