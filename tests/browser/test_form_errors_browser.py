"""Form errors beside their field, at 1280 and 390 px: marked aria-invalid and tied to the
field by aria-describedby, focus on the first, and what was typed kept."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from server.domain.staff import StaffProfile
from tests.browser.a11y import WIDTHS, checked
from tests.browser.flows import new_practice, signed_in_page

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Locator

    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


async def _explained(field: Locator, message: str) -> None:
    """``field`` is marked invalid and focused; its error (the first text describing it) is
    ``message`` and sits right after it."""
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_be_focused()
    described = (await field.get_attribute("aria-describedby") or "").split()
    assert described
    await expect(field.page.locator(f"#{described[0]}")).to_have_text(message)
    beside = await field.evaluate("e => e.nextElementSibling && e.nextElementSibling.id")
    assert beside == described[0]


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["1280", "390"])
async def test_errors_beside_their_fields(
    context: BrowserContext, live: LiveServer, width: int, height: int
) -> None:
    page, _practice = await signed_in_page(context, live, width, height)
    await page.get_by_role("link", name="Location & Staff Management").click()
    add = page.locator('form[action="/console/staff"]')
    await add.get_by_label("First name").fill("Ana")
    await add.get_by_label("Last name").fill("Ruiz")
    await add.get_by_label("Username").fill("Admin")
    await add.get_by_label("Email").fill("ana at clinic")
    await add.get_by_label("Cell phone").fill("555-0101")
    await add.get_by_role("button", name="Add staff member").click()
    await _explained(add.get_by_label("Email"), "Enter an email address like name@example.org.")
    await expect(add.get_by_label("First name")).to_have_value("Ana")
    await expect(add.get_by_label("Username")).to_have_value("Admin")
    await expect(add.get_by_label("Cell phone")).to_have_value("555-0101")
    await expect(add.get_by_label("Username")).not_to_have_attribute("aria-invalid", "true")
    await checked(page, "form-error-email")

    await add.get_by_label("Email").fill("ana.ruiz@clinic.org")
    await add.get_by_role("button", name="Add staff member").click()
    await _explained(
        add.get_by_label("Username"), "This username is already taken in this practice."
    )
    await expect(add.get_by_label("Email")).to_have_value("ana.ruiz@clinic.org")
    await checked(page, "form-error-username")

    await add.get_by_label("Username").fill("ana.ruiz")
    await add.get_by_role("button", name="Add staff member").click()
    await expect(page.get_by_role("status")).to_contain_text("was added")

    await page.get_by_role("button", name="Add location").click()
    await _explained(page.get_by_label("Location name"), "A location name is 1 to 200 characters.")
    await checked(page, "form-error-location")


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["1280", "390"])
async def test_account_setup_errors_beside_their_fields(
    context: BrowserContext, live: LiveServer, width: int, height: int
) -> None:
    page, practice = await signed_in_page(context, live, width, height)
    await live.services.team.add_staff(
        practice.uuid, StaffProfile(user_name="taken.name"), actor="test"
    )
    await page.goto(f"{live.base_url}/console/account")
    form = page.locator('form[action="/console/account"]')
    await form.get_by_label("First name").fill("Ana")
    await form.get_by_label("Email").fill("ana at clinic")
    await form.get_by_role("button", name="Save").click()
    await _explained(form.get_by_label("Email"), "Enter an email address like name@example.org.")
    await expect(form.get_by_label("First name")).to_have_value("Ana")
    await expect(form.get_by_label("Email")).to_have_value("ana at clinic")
    await checked(page, "form-error-account-email")

    await form.get_by_label("Email").fill("ana.ruiz@clinic.org")
    await form.get_by_label("Username").fill("taken.name")
    await form.get_by_role("button", name="Save").click()
    await _explained(
        form.get_by_label("Username"), "This username is already taken in this practice."
    )
    await expect(form.get_by_label("Email")).to_have_value("ana.ruiz@clinic.org")
    await expect(form.get_by_label("First name")).to_have_value("Ana")
    await expect(form.get_by_label("Email")).not_to_have_attribute("aria-invalid", "true")
    await checked(page, "form-error-account-username")


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["1280", "390"])
async def test_sso_settings_errors_beside_their_fields(
    context: BrowserContext, live: LiveServer, width: int, height: int
) -> None:
    page, _practice = await signed_in_page(context, live, width, height)
    await page.goto(f"{live.base_url}/console/settings/sso")
    oidc = page.locator("#oidc-form")
    await oidc.get_by_label("Issuer").fill("login.example.org")
    await oidc.get_by_label("Client ID").fill("app-1234")
    await oidc.get_by_role("button", name="Save").click()
    await _explained(
        oidc.get_by_label("Issuer"),
        "The issuer must be an https URL (http only on this machine).",
    )
    await expect(oidc.get_by_label("Issuer")).to_have_attribute(
        "aria-describedby", "issuer-error issuer-hint"
    )
    await expect(oidc.get_by_label("Issuer")).to_have_value("login.example.org")
    await expect(oidc.get_by_label("Client ID")).to_have_value("app-1234")
    await checked(page, "form-error-sso-oidc")

    saml = page.locator("#saml-form")
    await saml.get_by_label("IdP entity ID").fill("https://idp.example.org/entity")
    await saml.get_by_label("IdP sign-on URL (HTTP-Redirect)").fill("https://idp.example.org/sso")
    await saml.get_by_role("button", name="Use SAML 2.0").click()
    certificates = saml.get_by_label("IdP signing certificates")
    await _explained(certificates, "Give 1 to 4 IdP signing certificates.")
    await expect(saml.get_by_label("IdP entity ID")).to_have_value("https://idp.example.org/entity")
    await expect(saml.get_by_label("IdP sign-on URL (HTTP-Redirect)")).to_have_value(
        "https://idp.example.org/sso"
    )
    await checked(page, "form-error-sso-saml")


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["1280", "390"])
async def test_reset_password_error_beside_the_field(
    context: BrowserContext, live: LiveServer, width: int, height: int
) -> None:
    page = await context.new_page()
    practice = await new_practice(live)
    profile = StaffProfile(user_name="reception", email="reception@clinic.example")
    await live.services.team.add_staff(practice.uuid, profile, actor="test")
    await live.services.password_reset.request(practice.uuid, "reception")
    [message] = await live.services.store.outbox.list(practice.uuid, limit=10)
    link = re.search(r"(/console/\S+reset-password\S+)", message.body)
    assert link is not None
    await page.set_viewport_size({"width": width, "height": height})
    await page.goto(live.base_url + link.group(1))
    password = page.get_by_label("New password")
    await password.fill("too short")
    await page.get_by_role("button", name="Save password").click()
    await _explained(password, "Choose a password of 12 to 256 characters.")
    await expect(password).to_have_attribute("aria-describedby", "password-error password-hint")
    await expect(password).to_have_value("")  # a password is never written back
    await checked(page, "form-error-reset-password")

    await password.fill("a long enough new password")
    await page.get_by_role("button", name="Save password").click()
    await expect(page).to_have_url(re.compile(r"/sign-in"))
