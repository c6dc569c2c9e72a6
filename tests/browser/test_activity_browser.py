"""Settings → SCIM Provisioning → Activity in Chromium at 1280 and 390 px: the log of what an
identity provider did, a refusal in words, filters, a row's details and the downloads; axe-core
finds no violation in any state, and no state scrolls sideways. Screenshots under
tests/browser/artifacts/ (``activity-*``)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from tests.browser.flows import fits_width, new_practice, shot, sign_in

if TYPE_CHECKING:
    from playwright.async_api import Page

    from tests.browser.conftest import LiveServer
    from tests.console.helpers import ConsolePractice

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
OKTA = "Okta SCIM Client 1.0.0"
_AXE = Axe()


async def _checked(page: Page, name: str) -> None:
    await shot(page, name)
    assert await fits_width(page), f"{name} scrolls sideways"
    results = await _AXE.run(page)
    violations = [
        (v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]
    ]
    assert violations == [], name


async def _provision(live: LiveServer, practice: ConsolePractice) -> None:
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as http:
        token = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": practice.client_id,
                  "client_secret": practice.client_secret},
        )  # fmt: skip
        headers = {"Authorization": f"Bearer {token.json()['access_token']}", "User-Agent": OKTA}
        scim = f"/scim/v2/{practice.id}/Users"

        def person(user_name: str, given: str, family: str) -> dict[str, Any]:
            return {"schemas": [USER], "userName": user_name,
                    "name": {"givenName": given, "familyName": family},
                    "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}]}  # fmt: skip

        dana = await http.post(
            scim, json=person("dana.lee@example.org", "Dana", "Lee"), headers=headers
        )
        assert dana.status_code == 201
        clash = await http.post(
            scim, json=person("DANA.LEE@example.org", "Dan", "Lee"), headers=headers
        )
        assert clash.status_code == 409
        off = {
            "schemas": [PATCH],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
        }
        assert (
            await http.patch(f"{scim}/{dana.json()['id']}", json=off, headers=headers)
        ).status_code == 200
        for n in range(27):
            made = await http.post(
                scim, json=person(f"staff{n}@example.org", f"Sam{n}", "Ortiz"), headers=headers
            )
            assert made.status_code == 201
        refused = await http.get(
            scim, headers={"Authorization": "Bearer wrong", "User-Agent": OKTA}
        )
        assert refused.status_code == 401


async def _logged(live: LiveServer, practice: ConsolePractice, count: int) -> None:
    """Wait until the server's recorder has written ``count`` entries (it batches them)."""
    url = f"{live.base_url}/api/v1/practices/{practice.id}/scim/activity"
    headers = {"Authorization": f"Bearer {practice.admin_api_key}"}
    async with httpx.AsyncClient(timeout=10) as http:
        for _ in range(100):
            found = await http.get(url, params={"limit": 100}, headers=headers)
            if len(found.json()["items"]) >= count:
                return
            await asyncio.sleep(0.1)
    pytest.fail(f"the activity log did not reach {count} entries")


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
async def test_activity_page(page: Page, live: LiveServer, width: int, height: int) -> None:
    await page.set_viewport_size({"width": width, "height": height})
    practice = await new_practice(live, scim=True)
    await _provision(live, practice)
    await _logged(live, practice, 31)
    await sign_in(page, live, practice)

    await page.get_by_role("link", name="SCIM Activity").click()
    await page.wait_for_url("**/console/settings/scim/activity")
    await expect(page.get_by_role("heading", name="Provisioning activity")).to_be_visible()
    rows = page.locator("#activity-log tbody tr")
    await expect(rows).to_have_count(25)
    await _checked(page, "activity-list")

    await page.get_by_role("link", name="Older").click()
    await expect(rows).to_have_count(6)
    await expect(page.get_by_text("sent a userName already used by Dana Lee")).to_be_visible()
    await _checked(page, "activity-older")

    await page.get_by_label("Outcome").select_option("refused")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(rows).to_have_count(2)
    await _checked(page, "activity-refused")

    await page.get_by_role("link", name="Create user").first.click()
    await expect(page.locator("#explanation")).to_have_text(
        "The identity provider sent a userName already used by Dana Lee."
    )
    await expect(page.locator("#entry-details")).to_contain_text(OKTA)
    await expect(page.locator("#entry-details")).to_contain_text("uniqueness")
    await _checked(page, "activity-entry")
    await page.get_by_role("link", name="Back to activity").click()

    await page.get_by_label("Staff member").select_option(label="Dana Lee")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(rows).to_have_count(2)  # created, then deactivated (update: active)
    await expect(rows.first).to_contain_text("active")
    async with page.expect_download() as download:
        await page.get_by_role("link", name="CSV").click()
    saved = await (await download.value).path()
    lines = saved.read_text().strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("at,outcome,operation")
    await _checked(page, "activity-staff")
