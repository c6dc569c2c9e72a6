"""Helpers for driving the console like a browser (forms, CSRF tokens, TOTP) and SCIM like an
identity provider, in-process."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pyotp

from server.domain.sso import LinkRule

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from server.services import Services
    from simulators.idp import IdpPerson, SimulatedOidcIdp

SECURE_URL = "https://scimlab.test"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LAST_CODE = [""]


@dataclass
class ConsolePractice:
    id: str
    admin_password: str
    admin_api_key: str
    client_id: str = ""
    client_secret: str = ""

    @property
    def uuid(self) -> uuid.UUID:
        return uuid.UUID(self.id)


async def new_console_practice(services: Services, *, scim: bool = True) -> ConsolePractice:
    created = await services.practices.create_practice(
        f"Clinic {uuid.uuid4().hex[:6]}", actor="test"
    )
    practice = ConsolePractice(
        str(created.practice.id), created.admin_password, created.admin_api_key
    )
    if scim:
        credentials = await services.practices.enable(created.practice.id, actor="test")
        practice.client_id = credentials.client_id
        practice.client_secret = credentials.client_secret
    return practice


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def post_form(
    web: AsyncTestClient[Any], page: str, action: str, data: dict[str, Any]
) -> httpx.Response:
    """Open ``page``, then submit ``data`` to ``action`` with the page's CSRF token."""
    shown = await web.get(page)
    assert shown.status_code == 200, shown.text
    return await web.post(action, data={**data, "csrf_token": csrf_of(shown.text)})


async def sign_in_admin(web: AsyncTestClient[Any], practice: ConsolePractice) -> str:
    """Password, enrollment and first code: returns the authenticator secret (the code it
    used is left in ``LAST_CODE``)."""
    page = f"/console/{practice.id}/sign-in"
    done = await post_form(
        web, page, page, {"user_name": "admin", "password": practice.admin_password}
    )
    assert done.status_code == 303, done.text
    code_page = await web.get(f"{page}/code")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', code_page.text)
    assert secret, code_page.text
    LAST_CODE[0] = pyotp.TOTP(secret.group(1)).now()
    signed_in = await web.post(
        f"{page}/code", data={"csrf_token": csrf_of(code_page.text), "code": LAST_CODE[0]}
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/console"
    return secret.group(1)


async def scim_headers(web: AsyncTestClient[Any], practice: ConsolePractice) -> dict[str, str]:
    token = await web.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": practice.client_id,
            "client_secret": practice.client_secret,
        },
    )
    assert token.status_code == 200, token.text
    return {
        "Authorization": f"Bearer {token.json()['access_token']}",
        "Content-Type": "application/scim+json",
    }


def scim_body(idp: SimulatedOidcIdp, person: IdpPerson) -> dict[str, Any]:
    """What each IdP sends when it creates the person (idp-behaviors §1.3, §2.3, §3.4)."""
    external_id = {
        "entra": person.object_id,  # mapping externalId <- objectId (§1.9)
        "okta": person.okta_id,  # Okta's create example (§2.9)
        "google": None,
    }[idp.dialect.name]
    body: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "userName": person.user_name,
        "name": {"givenName": person.given_name, "familyName": person.family_name},
        "emails": [{"value": person.primary_email, "type": "work", "primary": True}],
        "active": True,
    }
    if external_id:
        body["externalId"] = external_id
    return body


async def provision(
    web: AsyncTestClient[Any],
    practice: ConsolePractice,
    idp: SimulatedOidcIdp,
    person: IdpPerson,
) -> str:
    response = await web.post(
        f"/scim/v2/{practice.id}/Users",
        json=scim_body(idp, person),
        headers=await scim_headers(web, practice),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


RULES = {
    "entra": LinkRule.ENTRA_OID,
    "okta": LinkRule.OKTA_SUB,
    "google": LinkRule.GOOGLE_EMAIL,
}


async def configure_sso(
    services: Services,
    practice: ConsolePractice,
    idp: SimulatedOidcIdp,
    *,
    rule: LinkRule | None = None,
    client_id: str | None = None,
) -> str:
    """Register the practice as a client of the IdP and configure SSO; returns the client id."""
    client_id = client_id or f"app-{uuid.uuid4().hex[:8]}"
    redirect = services.sso.redirect_uri(practice.uuid)
    idp.register_client(client_id, "idp-client-secret", [redirect])
    await services.sso_configs.configure(
        practice.uuid,
        issuer=idp.issuer,
        client_id=client_id,
        client_secret="idp-client-secret",
        link_rule=(rule or RULES[idp.dialect.name]).value,
        metadata_url=idp.discovery_url,
        actor="test",
    )
    return client_id


async def sso_sign_in(
    web: AsyncTestClient[Any], practice: ConsolePractice, *, via_practice: str | None = None
) -> httpx.Response:
    """Start at the practice's sign-in, let the IdP answer, return the callback's response."""
    started = await web.get(f"/sso/{via_practice or practice.id}/start")
    assert started.status_code == 303, started.text
    async with httpx.AsyncClient() as browser:
        answered = await browser.get(started.headers["location"])
    assert answered.status_code == 302, answered.text
    back = urlsplit(answered.headers["location"])
    return await web.get(f"{back.path}?{back.query}")
