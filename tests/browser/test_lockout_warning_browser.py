"""Sign-in says how the lock works before it happens, at 1280 and 390 px: every wrong
password says five in a row lock the account; the fourth wrong code says it is the last try."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyotp
import pytest
from playwright.async_api import expect

from tests.browser.a11y import WIDTHS, checked
from tests.browser.flows import new_practice

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["1280", "390"])
async def test_lockout_is_announced_before_the_last_attempt(
    context: BrowserContext, live: LiveServer, width: int, height: int
) -> None:
    page = await context.new_page()
    practice = await new_practice(live)
    await page.set_viewport_size({"width": width, "height": height})
    await page.goto(f"{live.base_url}/console/{practice.id}/sign-in")
    await page.get_by_label("Username").fill("admin")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("alert")).to_contain_text("locked for 15 minutes")
    await checked(page, "lockout-password-note")

    await page.get_by_label("Username").fill("admin")
    await page.get_by_label("Password").fill(practice.admin_password)
    await page.get_by_role("button", name="Continue").click()
    secret = (await page.locator("#totp-secret").inner_text()).strip()
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    alert = page.get_by_role("alert")
    # The wrong password before counts: failures in a row, of either factor.
    for _ in range(2):
        await page.get_by_label("6-digit code").fill(wrong)
        await page.get_by_role("button", name="Confirm and sign in").click()
        await expect(alert).to_contain_text("not correct")
        await expect(alert).not_to_contain_text("last try")
    await page.get_by_label("6-digit code").fill(wrong)
    await page.get_by_role("button", name="Confirm and sign in").click()
    await expect(alert).to_contain_text("This is your last try")
    await checked(page, "lockout-last-try")
    await page.get_by_label("6-digit code").fill(wrong)
    await page.get_by_role("button", name="Confirm and sign in").click()
    await expect(alert).to_contain_text("locked")
