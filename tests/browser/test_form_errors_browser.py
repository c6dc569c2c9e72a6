"""Form errors beside their field, at 1280 and 390 px: marked aria-invalid and tied to the
field by aria-describedby, focus on the first, and what was typed kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from tests.browser.a11y import WIDTHS, checked
from tests.browser.flows import new_practice, sign_in

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Locator

    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


async def _explained(field: Locator, message: str) -> None:
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_be_focused()
    described = await field.get_attribute("aria-describedby")
    assert described
    await expect(field.page.locator(f"#{described}")).to_have_text(message)


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["1280", "390"])
async def test_errors_beside_their_fields(
    context: BrowserContext, live: LiveServer, width: int, height: int
) -> None:
    page = await context.new_page()
    practice = await new_practice(live)
    await page.set_viewport_size({"width": width, "height": height})
    await sign_in(page, live, practice)
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
