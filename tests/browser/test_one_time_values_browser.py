"""Values shown once, at 1280 and 390 px: every value readable in full inside its box, the
secret and its warning brought into view and focused after Enable and Regenerate, a notice
at the top linking to a new secret or token, and leaving before Done asks first."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from tests.browser.a11y import WIDTHS, checked
from tests.browser.flows import signed_in_page

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

VALUES = ("scim-endpoint-url", "token-endpoint-url", "client-id", "client-secret")


async def _shown_whole(page: Page, field_id: str) -> None:
    """The whole value is inside its box: nothing hidden sideways or below."""
    hidden = await page.locator(f"#{field_id}").evaluate(
        "e => [e.scrollWidth - e.clientWidth, e.scrollHeight - e.clientHeight]"
    )
    assert hidden[0] <= 0, (field_id, hidden)
    assert hidden[1] <= 1, (field_id, hidden)


async def _in_view_and_focused(page: Page, box_id: str) -> None:
    await expect(page.locator(f"#{box_id}")).to_be_focused()
    await expect(page.locator(f"#{box_id}")).to_be_in_viewport()
    await expect(page.locator(f"#{box_id}")).to_contain_text("now")


async def _asks_before_leaving(page: Page) -> list[str]:
    """The dialogs Chromium shows when the page is closed (each dismissed: the page stays)."""
    seen: list[str] = []

    async def dismiss(dialog: object) -> None:
        seen.append(dialog.type)  # type: ignore[attr-defined]
        await dialog.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", dismiss)
    await page.close(run_before_unload=True)
    for _ in range(50):
        if seen or page.is_closed():
            break
        await asyncio.sleep(0.05)
    page.remove_listener("dialog", dismiss)
    return seen


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["1280", "390"])
async def test_one_time_values_in_full_in_view_and_guarded(
    context: BrowserContext, live: LiveServer, width: int, height: int
) -> None:
    page, practice = await signed_in_page(context, live, width, height)
    await page.get_by_role("button", name="Enable SCIM provisioning for this company").click()
    await _in_view_and_focused(page, "secret-box")
    for field_id in VALUES:
        await _shown_whole(page, field_id)
    await checked(page, "one-time-enabled")
    await page.get_by_role("button", name="Copy Client Secret").click()  # the page is used
    assert await _asks_before_leaving(page) == ["beforeunload"]
    assert not page.is_closed()
    await page.get_by_role("link", name="Done").click()
    await expect(page.locator("#client-secret")).to_have_value(
        f"••••••••{(await live.services.practices.show(practice.uuid)).client_secret[-4:]}"
    )
    for field_id in VALUES:
        await _shown_whole(page, field_id)
    await checked(page, "one-time-masked")

    await page.get_by_role("button", name="Regenerate Secret").click()
    await page.get_by_role("dialog").get_by_role("button", name="Regenerate").click()
    notice = page.locator("#one-time-notice")
    await expect(notice).to_contain_text("A new client secret was generated")
    await _in_view_and_focused(page, "secret-box")
    await checked(page, "one-time-regenerated")
    await page.evaluate("window.scrollTo(0, 0)")
    await notice.get_by_role("link", name="Go to the new client secret").click()
    await _in_view_and_focused(page, "secret-box")
    await page.get_by_role("link", name="Done").click()
    await expect(page.locator("#one-time-notice")).to_have_count(0)

    await page.get_by_role("button", name="Create static token").click()
    await expect(page.locator("#one-time-notice")).to_contain_text("A new static token")
    await _in_view_and_focused(page, "token-box")
    await _shown_whole(page, "new-token")
    await checked(page, "one-time-token")
    await page.locator("#new-token").click()
    assert await _asks_before_leaving(page) == ["beforeunload"]
    await page.locator("#token-box").get_by_role("link", name="Done").click()
    await page.locator("#scim-endpoint-url").click()
    assert await _asks_before_leaving(page) == []  # confirmed: nothing to lose
    assert page.is_closed()
