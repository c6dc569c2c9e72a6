"""Practice administrators give and remove the administrator role, at 1280 and 390 px; the
last administrator cannot remove their own, and is told why."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from server.domain.staff import StaffProfile
from tests.browser.a11y import WIDTHS, checked
from tests.browser.flows import new_practice, sign_in

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["1280", "390"])
async def test_grant_and_revoke_the_administrator_role(
    context: BrowserContext, live: LiveServer, width: int, height: int
) -> None:
    page = await context.new_page()
    practice = await new_practice(live)
    ana = await live.services.team.add_staff(
        practice.uuid,
        StaffProfile(user_name="ana", given_name="Ana", family_name="Ruiz"),
        actor="t",
    )
    await page.set_viewport_size({"width": width, "height": height})
    await sign_in(page, live, practice)
    await page.get_by_role("link", name="Location & Staff Management").click()
    await page.get_by_role("link", name="Edit admin").click()
    await page.get_by_role("button", name="Remove the administrator role").click()
    await expect(page.get_by_role("alert")).to_contain_text("last administrator")
    await checked(page, "role-last-admin-refused")

    await page.goto(f"{live.base_url}/console/staff/{ana.id}")
    await page.get_by_role("button", name="Make administrator").click()
    await expect(page.get_by_role("status")).to_contain_text("administrator role was given")
    await checked(page, "role-granted")
    await page.get_by_role("button", name="Remove the administrator role").click()
    await expect(page.get_by_role("status")).to_contain_text("administrator role was removed")
    await expect(page.get_by_role("button", name="Make administrator")).to_be_visible()
    await page.goto(f"{live.base_url}/console/settings/audit")
    await expect(page.locator("#audit")).to_contain_text("Administrator role removed")
    await expect(page.locator("#audit").get_by_role("link", name="Ana Ruiz").first).to_be_visible()
