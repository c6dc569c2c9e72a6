"""Typed confirmations that explain themselves, at 1280 and 390 px: a wrong or small-letter
word is explained beside the box and marked invalid, Enter goes ahead once the word is right,
and the server's own refusal (no script) is written for people."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from tests.browser.a11y import WIDTHS, checked
from tests.browser.flows import new_practice, sign_in, signed_in_page

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["1280", "390"])
async def test_typed_word_is_explained_and_enter_confirms(
    context: BrowserContext, live: LiveServer, width: int, height: int
) -> None:
    page, practice = await signed_in_page(context, live, width, height, scim=True)
    await page.get_by_role("switch").click()
    dialog = page.get_by_role("dialog", name="Disable SCIM provisioning?")
    box = dialog.get_by_label("Type DISABLE to confirm")
    await box.fill("disable")
    await expect(box).to_have_attribute("aria-invalid", "true")
    error = dialog.locator("#disable-confirm-error")
    await expect(error).to_have_text("Type DISABLE in capital letters.")
    assert "disable-confirm-error" in (await box.get_attribute("aria-describedby") or "")
    await checked(page, "confirm-small-letters")
    await box.press("Enter")  # refused in the page
    await expect(dialog).to_be_visible()
    await expect(box).to_be_focused()
    await box.fill("DISABL")
    await box.press("Enter")
    await expect(error).to_have_text("Type DISABLE in capital letters to confirm.")
    await checked(page, "confirm-wrong-word")
    assert (await live.services.practices.show(practice.uuid)).enabled
    await box.fill("DISABLE")
    await expect(box).not_to_have_attribute("aria-invalid", "true")
    await expect(error).to_have_text("")
    await box.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("paused")
    assert not (await live.services.practices.show(practice.uuid)).enabled


async def test_server_refusal_is_written_for_people(
    context: BrowserContext, live: LiveServer
) -> None:
    """What the server answers when the word arrives wrong anyway (a form sent without the
    page's script: ``form.submit()`` skips its check)."""
    page = await context.new_page()
    practice = await new_practice(live, scim=True)
    await sign_in(page, live, practice)
    for width, height in WIDTHS:
        await page.set_viewport_size({"width": width, "height": height})
        form = page.locator("#delete-dialog form")
        await form.evaluate("f => { f.elements.confirm.value = 'delete'; f.submit(); }")
        await expect(page.get_by_role("alert")).to_have_text(
            "Nothing was changed. To confirm, type DELETE in capital letters in the box and "
            "try again."
        )
        await checked(page, "confirm-refused-by-server")
    assert (await live.services.practices.show(practice.uuid)).enabled
