"""The audit log as a practice administrator reads it, at 1280 and 390 px: entries in words,
the identity provider named by its credential, staff linked by name, local times with UTC on
hover, filters and pages; axe-core on every state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from server.domain.practices import AuditEntry
from server.domain.staff import StaffProfile
from simulators.idp import IdpPerson
from tests.browser.a11y import WIDTHS, checked
from tests.browser.flows import deactivate, new_practice, provision, sign_in

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from playwright.async_api import Browser, BrowserContext, Page

    from simulators.idp import SimulatedOidcIdp
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
async def chicago(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A browser whose administrator works in Chicago (UTC-6 in December)."""
    created = await browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="America/Chicago", locale="en-US"
    )
    created.set_default_timeout(10_000)
    yield created
    await created.close()


async def test_audit_log_in_words_filters_and_pages(
    chicago: BrowserContext, live: LiveServer, start_idp: Callable[..., SimulatedOidcIdp]
) -> None:
    page: Page = await chicago.new_page()
    practice = await new_practice(live, scim=True)
    person = IdpPerson("hana", "hana.sato@contoso.org", "Hana", "Sato")
    staff_id = await provision(live, practice, start_idp("entra"), person)
    await deactivate(live, practice, staff_id)
    for n in range(26):  # more than a page of entries
        await live.services.provisioning.create(
            practice.uuid, StaffProfile(user_name=f"temp{n}-{uuid.uuid4().hex[:4]}")
        )
    await sign_in(page, live, practice)
    await page.get_by_role("button", name="Regenerate Secret").click()
    await page.get_by_role("dialog").get_by_role("button", name="Regenerate").click()
    await page.get_by_role("link", name="Done").click()

    audit = page.locator("#audit")
    await expect(audit).to_contain_text("Client secret regenerated (2 tokens revoked)")
    await expect(audit).to_contain_text("Practice Admin, administrator (you)")
    await page.get_by_role("link", name="See the whole audit log, with filters").click()
    await expect(page.get_by_role("heading", name="Audit log", exact=True)).to_be_visible()

    who = f"Identity provider (OAuth client …{practice.client_id[-4:]})"
    await page.get_by_label("Who acted").select_option(label="The identity provider")
    await page.get_by_label("Staff member").select_option(value=staff_id)
    await page.get_by_role("button", name="Apply filters").click()
    rows = page.locator("#audit tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("Account deactivated")
    await expect(rows.nth(1)).to_contain_text("Account created")
    await expect(rows.nth(0)).to_contain_text(who)
    link = rows.nth(0).get_by_role("link", name="Hana Sato")
    assert await link.get_attribute("href") == f"/console/staff/{staff_id}"
    when = rows.nth(0).locator("time")
    assert (await when.get_attribute("title") or "").endswith("UTC")
    assert "CST" in await when.inner_text()  # the administrator's own time zone
    assert "Hana" not in (await rows.nth(0).locator("td").nth(2).inner_text())  # no values

    for width, height in WIDTHS:
        await page.set_viewport_size({"width": width, "height": height})
        # A date stays on one line.
        box = await when.bounding_box()
        line = await when.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
        assert box is not None
        assert box["height"] < 1.5 * line, f"date wraps at {width} px"
        await checked(page, "audit-filtered")

    await page.get_by_role("link", name="Clear filters").click()
    await expect(rows).to_have_count(25)
    await page.get_by_role("link", name="Older entries").click()
    await expect(page.get_by_role("heading", name="Entries, page 2")).to_be_visible()
    await expect(page.locator("#audit")).to_contain_text("Practice created")
    for width, height in WIDTHS:
        await page.set_viewport_size({"width": width, "height": height})
        await checked(page, "audit-page-2")
    await page.get_by_role("link", name="Newer entries").click()
    await expect(page.get_by_role("heading", name="Entries", exact=True)).to_be_visible()


async def test_date_filter_uses_the_administrators_days(
    chicago: BrowserContext, live: LiveServer
) -> None:
    """An entry at 22:30 in Chicago (04:30 UTC the next day) is under the Chicago date."""
    page: Page = await chicago.new_page()
    practice = await new_practice(live)
    evening = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)  # 19 November, 22:30 CST
    morning = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)  # 20 November, 00:30 CST
    for at, name in ((evening, "Evening Clinic"), (morning, "Morning Clinic")):
        await live.services.store.audit.record(
            AuditEntry(practice.uuid, "test", "location.created", f"name={name}", at)
        )
    await sign_in(page, live, practice)
    await page.goto(f"{live.base_url}/console/settings/audit")
    rows = page.locator("#audit tbody tr")
    for day, shown, hidden in (
        ("2026-11-19", "Evening Clinic", "Morning Clinic"),
        ("2026-11-20", "Morning Clinic", "Evening Clinic"),
    ):
        await page.get_by_label("From (date)").fill(day)
        await page.get_by_label("To (date)").fill(day)
        await page.get_by_role("button", name="Apply filters").click()
        await expect(rows).to_have_count(1)
        await expect(rows.nth(0)).to_contain_text(shown)
        await expect(page.locator("#audit")).not_to_contain_text(hidden)
        # the local date, once console.js has rewritten the UTC text (a retrying check: the
        # rows are there before the script has run)
        await expect(rows.nth(0).locator("time")).to_contain_text(f" {int(day[-2:])},")
    await checked(page, "audit-local-date")
