"""Providers at 1280 and 390 px: Add Provider starts with nobody chosen; a provider's page
edits the fields the platform owns (never the provisioned ones) and removes the role."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from simulators.idp import IdpPerson
from tests.browser.a11y import WIDTHS, checked
from tests.browser.flows import new_practice, provision, sign_in

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.async_api import BrowserContext

    from simulators.idp import SimulatedOidcIdp
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["1280", "390"])
async def test_provider_detail_edit_and_remove(
    context: BrowserContext,
    live: LiveServer,
    start_idp: Callable[..., SimulatedOidcIdp],
    width: int,
    height: int,
) -> None:
    page = await context.new_page()
    practice = await new_practice(live, scim=True)
    person = IdpPerson("lee", "lee.park@contoso.org", "Lee", "Park")
    await provision(live, practice, start_idp("okta"), person)
    await page.set_viewport_size({"width": width, "height": height})
    await sign_in(page, live, practice)
    await page.get_by_role("link", name="Providers").click()
    await page.get_by_role("link", name="Add Provider").click()
    chooser = page.get_by_label("Existing user", exact=True)
    await expect(chooser).to_have_value("")  # nobody, not the administrator
    await page.get_by_label("NPI").fill("1234567893")
    await page.get_by_label("Specialty").select_option("Pediatrics")
    await page.get_by_role("button", name="Add Provider").click()
    await expect(page.get_by_role("alert")).to_contain_text("Choose the staff member")
    await chooser.select_option(label=f"Lee Park ({person.user_name}) · SCIM-provisioned")
    await page.get_by_role("button", name="Add Provider").click()
    await page.locator("#providers").get_by_role("link", name="Lee Park").click()

    for label in ("First name", "Last name", "Username", "Cell phone"):
        await expect(page.get_by_label(label, exact=True)).to_be_disabled()
    await checked(page, "provider-detail")
    await page.get_by_label("NPI").fill("1234567890")  # a wrong check digit
    await page.get_by_role("button", name="Save").click()
    npi = page.get_by_label("NPI")
    await expect(npi).to_have_attribute("aria-invalid", "true")
    await expect(npi).to_be_focused()
    await expect(npi).to_have_value("1234567890")
    await checked(page, "provider-detail-error")
    await npi.fill("1245319599")
    await page.get_by_label("Specialty").select_option("Cardiology")
    await page.get_by_label("Email").fill("lee.p@contoso.org")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text("saved")
    await expect(page.get_by_label("NPI")).to_have_value("1245319599")
    await expect(page.get_by_label("Email")).to_have_value("lee.p@contoso.org")
    await page.get_by_role("button", name="Remove the provider role").click()
    await expect(page.get_by_role("status")).to_contain_text("provider role was removed")
    await expect(page.locator("#providers")).to_have_count(0)
    audit = [e.action for e in await live.services.practices.audit_log(practice.uuid)]
    assert audit[:3] == ["provider.removed", "staff.updated", "provider.updated"]
