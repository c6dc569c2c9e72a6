"""Settings → SCIM Provisioning → Traffic recording in a real browser: start for a chosen
time, see until when, stop, download the trace; at 1280 and 390 px with no axe-core
violation in any state."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.async_api import expect

from simulators.core.trace import parse_trace
from simulators.idp import IdpPerson
from tests.browser.a11y import WIDTHS, checked
from tests.browser.flows import new_practice, provision, sign_in

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.async_api import Page

    from simulators.idp import SimulatedOidcIdp
    from tests.browser.conftest import LiveServer


async def _at_every_width(page: Page, name: str) -> None:
    for width, height in WIDTHS:
        await page.set_viewport_size({"width": width, "height": height})
        await checked(page, name)


async def test_record_stop_and_download_a_trace(
    page: Page, live: LiveServer, start_idp: Callable[..., SimulatedOidcIdp]
) -> None:
    practice = await new_practice(live, scim=True)
    await sign_in(page, live, practice)
    await page.goto(f"{live.base_url}/console/settings/scim")
    section = page.get_by_role("region", name="Traffic recording")
    await expect(section.locator("#recording-state")).to_contain_text("Not recording")
    await expect(section.get_by_role("link", name="Download trace")).to_have_count(0)
    await _at_every_width(page, "recording-off")

    await section.get_by_role("radio", name="1 hour").check()
    await section.get_by_role("button", name="Start recording").click()
    await page.wait_for_url("**/console/settings/scim?notice=recording_started*")
    section = page.get_by_role("region", name="Traffic recording")
    await expect(section.get_by_role("status")).to_contain_text("Recording started")
    await expect(section.locator("#recording-state")).to_contain_text(
        re.compile(r"Recording until \d{4}-\d\d-\d\d \d\d:\d\d UTC")
    )
    await _at_every_width(page, "recording-on")

    idp = start_idp("entra")
    await provision(live, practice, idp, IdpPerson("mara", "mara@contoso.org", "Mara", "Ng"))

    await section.get_by_role("button", name="Stop recording").click()
    await page.wait_for_url("**/console/settings/scim?notice=recording_stopped*")
    section = page.get_by_role("region", name="Traffic recording")
    await expect(section.locator("#recording-state")).to_contain_text("The last recording ended")
    await _at_every_width(page, "recording-stopped")

    async with page.expect_download() as waiting:
        await section.get_by_role("link", name="Download trace").click()
    download = await waiting.value
    assert re.fullmatch(
        rf"trace-{practice.id}-\d{{8}}T\d{{6}}Z\.jsonl", download.suggested_filename
    )
    path = await download.path()
    text = path.read_text()
    trace = parse_trace(text.splitlines())
    assert [(x.method, x.path, x.status) for x in trace.exchanges] == [("POST", "/Users", 201)]
    assert practice.client_secret not in text
    assert "Bearer [redacted]" in text
    await expect(page.locator("#audit")).to_contain_text("scim.recording_started")
