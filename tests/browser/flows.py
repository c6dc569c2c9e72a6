"""What a person does in the console, as Playwright steps, plus set-up through the services
and the SCIM API of the live server."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pyotp

from tests.browser.conftest import ARTIFACTS
from tests.console.helpers import RULES, ConsolePractice, scim_body

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

    from server.domain.sso import LinkRule
    from simulators.idp import IdpPerson, SimulatedOidcIdp
    from tests.browser.conftest import LiveServer


async def clipboard_after_copy(page: Page, expected: str, seconds: float = 5.0) -> str:
    """The clipboard once it holds ``expected``, or what it holds after ``seconds``: a Copy
    button writes it asynchronously, so a read straight after the click can see the old text."""
    deadline = time.monotonic() + seconds
    while True:
        text = str(await page.evaluate("navigator.clipboard.readText()"))
        if text == expected or time.monotonic() > deadline:
            return text
        await asyncio.sleep(0.05)


async def shot(page: Page, name: str) -> None:
    """A full-page screenshot under tests/browser/artifacts, named after the page and width."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    await page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)


async def fits_width(page: Page) -> bool:
    """No horizontal scrolling: the document is no wider than the viewport."""
    return bool(
        await page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


async def new_practice(live: LiveServer, *, scim: bool = False) -> ConsolePractice:
    services = live.services
    created = await services.practices.create_practice(
        f"Sunrise Family Medicine {uuid.uuid4().hex[:4]}", actor="test"
    )
    practice = ConsolePractice(
        str(created.practice.id), created.admin_password, created.admin_api_key
    )
    if scim:
        credentials = await services.practices.enable(created.practice.id, actor="test")
        practice.client_id = credentials.client_id
        practice.client_secret = credentials.client_secret
    return practice


async def sign_in(page: Page, live: LiveServer, practice: ConsolePractice) -> str:
    """Password, then the authenticator (enrolled from the page's key): returns its secret."""
    await page.goto(f"{live.base_url}/console/{practice.id}/sign-in")
    await page.get_by_label("Username").fill("admin")
    await page.get_by_label("Password").fill(practice.admin_password)
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url("**/sign-in/code")
    secret = (await page.locator("#totp-secret").inner_text()).strip()
    await page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Confirm and sign in").click()
    await page.wait_for_url("**/console/settings/scim")
    return secret


async def signed_in_page(
    context: BrowserContext, live: LiveServer, width: int, height: int, *, scim: bool = False
) -> tuple[Page, ConsolePractice]:
    """A new page of ``width`` x ``height``, signed in as a new practice's administrator."""
    page = await context.new_page()
    practice = await new_practice(live, scim=scim)
    await page.set_viewport_size({"width": width, "height": height})
    await sign_in(page, live, practice)
    return page, practice


async def provision(
    live: LiveServer, practice: ConsolePractice, idp: SimulatedOidcIdp, person: IdpPerson
) -> str:
    """What the IdP does over SCIM: a token, then POST /Users with its own attribute shape."""
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as http:
        token = await http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": practice.client_id,
                "client_secret": practice.client_secret,
            },
        )
        headers = {
            "Authorization": f"Bearer {token.json()['access_token']}",
            "Content-Type": "application/scim+json",
        }
        created = await http.post(
            f"/scim/v2/{practice.id}/Users", json=scim_body(idp, person), headers=headers
        )
        assert created.status_code == 201, created.text
        return str(created.json()["id"])


async def deactivate(live: LiveServer, practice: ConsolePractice, staff_id: str) -> None:
    """Entra's deactivation: PATCH with a string boolean (idp-behaviors §1.5)."""
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as http:
        token = await http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": practice.client_id,
                "client_secret": practice.client_secret,
            },
        )
        patched = await http.patch(
            f"/scim/v2/{practice.id}/Users/{staff_id}",
            json={
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
            },
            headers={
                "Authorization": f"Bearer {token.json()['access_token']}",
                "Content-Type": "application/scim+json",
            },
        )
        assert patched.status_code == 200, patched.text


async def configure_sso(
    live: LiveServer,
    practice: ConsolePractice,
    idp: SimulatedOidcIdp,
    *,
    rule: LinkRule | None = None,
) -> dict[str, Any]:
    client_id = f"app-{uuid.uuid4().hex[:8]}"
    idp.register_client(client_id, "idp-secret", [live.services.sso.redirect_uri(practice.uuid)])
    values = {
        "issuer": idp.issuer,
        "client_id": client_id,
        "client_secret": "idp-secret",
        "link_rule": (rule or RULES[idp.dialect.name]).value,
        "metadata_url": idp.discovery_url,
    }
    await live.services.sso_configs.configure(practice.uuid, actor="test", **values)
    return values
