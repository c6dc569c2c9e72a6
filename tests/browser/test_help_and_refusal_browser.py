"""The 403 page keeps the practice's navigation and Sign out, and "Learn more" on the SCIM
and SSO pages opens short in-console help for Entra ID, Okta and Google; 1280 and 390 px."""

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
async def test_refusal_keeps_navigation_and_help_pages_open(
    context: BrowserContext, live: LiveServer, width: int, height: int
) -> None:
    page = await context.new_page()
    practice = await new_practice(live, scim=True)
    await page.set_viewport_size({"width": width, "height": height})
    await sign_in(page, live, practice)
    for source, name in (("scim", "Entra ID set-up"), ("sso", "Okta set-up"),
                         ("scim", "Google Workspace set-up")):  # fmt: skip
        await page.goto(f"{live.base_url}/console/settings/{source}")
        await page.get_by_role("link", name=name).click()
        heading = page.get_by_role("heading", level=1)
        await expect(heading).to_contain_text(name.split(" set-up")[0])
        await expect(page.locator("ol.steps li").first).to_be_visible()
        await checked(page, f"help-{name.split()[0].lower()}")

    # A staff member who is not an administrator opens an administrators' page.
    staff = await live.services.team.add_staff(
        practice.uuid, StaffProfile(user_name="dana", given_name="Dana"), actor="t"
    )
    await live.services.staff_admin.set_administrator(
        practice.uuid, staff.id, admin=True, actor="t"
    )
    await page.goto(f"{live.base_url}/console/staff/{staff.id}")
    # Take the role away from the signed-in administrator by way of the other one.
    await live.services.staff_admin.set_administrator(
        practice.uuid, (await _admin_id(live, practice.uuid)), admin=False, actor="t"
    )
    await page.goto(f"{live.base_url}/console/settings/scim")
    await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    await expect(page.get_by_role("navigation", name="Utilities")).to_contain_text("Account Setup")
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    await checked(page, "forbidden-with-navigation")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("Username")).to_be_visible()


async def _admin_id(live: LiveServer, practice: object) -> object:
    users = await live.services.store.staff.list_all(practice)  # type: ignore[arg-type]
    return next(u.id for u in users if u.profile.user_name == "admin")
