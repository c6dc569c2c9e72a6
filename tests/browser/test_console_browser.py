"""The practice console in Chromium: TOTP enrollment and sign-in, the SCIM Provisioning page
(copy, shown-once secret, typed confirmations, regenerate, delete, static tokens), dialogs by
keyboard, staff assignment, providers, and layouts at 1280 and 390 px."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pyotp
import pytest
from playwright.async_api import expect

from simulators.idp import IdpPerson
from tests.browser.flows import (
    clipboard_after_copy,
    configure_sso,
    fits_width,
    new_practice,
    provision,
    shot,
    sign_in,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.async_api import Page

    from simulators.idp import SimulatedOidcIdp
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

COPYABLE = {
    "scim-endpoint-url": "SCIM Endpoint URL",
    "token-endpoint-url": "Token Endpoint URL",
    "client-id": "Client ID",
    "client-secret": "Client Secret",
}


async def test_totp_enrollment_and_sign_in(page: Page, live: LiveServer) -> None:
    practice = await new_practice(live)
    await page.goto(f"{live.base_url}/console/{practice.id}/sign-in")
    await shot(page, "sign-in")
    await page.get_by_label("Username").fill("admin")
    await page.get_by_label("Password").fill(practice.admin_password)
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", name="Set up your authenticator")).to_be_visible()
    await expect(page.locator(".qr svg")).to_be_visible()
    await expect(page.locator("#totp-uri")).to_contain_text("otpauth://totp/")
    secret = (await page.locator("#totp-secret").inner_text()).strip()
    await page.set_viewport_size({"width": 390, "height": 844})
    assert await fits_width(page)
    await shot(page, "enroll-authenticator")
    await page.set_viewport_size({"width": 1280, "height": 900})

    await page.get_by_label("6-digit code").fill("000000")
    await page.get_by_role("button", name="Confirm and sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("not correct")
    used = pyotp.TOTP(secret).now()
    await page.get_by_label("6-digit code").fill(used)
    await page.get_by_role("button", name="Confirm and sign in").click()
    await expect(page.get_by_role("heading", name="SCIM Provisioning")).to_be_visible()

    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_label("Username").fill("admin")
    await page.get_by_label("Password").fill(practice.admin_password)
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    await page.get_by_label("6-digit code").fill(used)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("already used")
    await shot(page, "sign-in-code-replayed")
    await page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="SCIM Provisioning")).to_be_visible()


async def _copied(page: Page, field_id: str) -> None:
    await page.get_by_role("button", name=f"Copy {COPYABLE[field_id]}").click()
    value = await page.locator(f"#{field_id}").input_value()
    assert await clipboard_after_copy(page, value) == value


async def test_scim_provisioning_page(page: Page, live: LiveServer) -> None:
    practice = await new_practice(live)
    await sign_in(page, live, practice)
    await shot(page, "settings-scim-not-configured")
    await page.get_by_role("button", name="Enable SCIM provisioning for this company").click()

    secret = await page.locator("#client-secret").input_value()
    assert secret.startswith("scs_")
    for field_id in COPYABLE:
        await _copied(page, field_id)
    await expect(page.get_by_role("button", name="Copy Client Secret")).to_have_text("Copied")
    await shot(page, "settings-scim-secret-shown")
    await page.get_by_role("link", name="Done").click()
    await expect(page.locator("#client-secret")).to_have_value(f"••••••••{secret[-4:]}")
    assert secret not in await page.content()

    await page.get_by_role("button", name="Regenerate Secret").click()
    dialog = page.get_by_role("dialog", name="Regenerate the client secret?")
    await expect(dialog).to_be_visible()
    await shot(page, "dialog-regenerate")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await page.get_by_role("button", name="Regenerate Secret").click()
    await dialog.get_by_role("button", name="Regenerate").click()
    regenerated = await page.locator("#client-secret").input_value()
    assert regenerated.startswith("scs_")
    assert regenerated != secret
    await page.wait_for_url("**/console/settings/scim")  # the post result took the page's address
    await page.reload()
    await expect(page.locator("#client-secret")).to_have_value(f"••••••••{regenerated[-4:]}")
    await expect(
        page.get_by_role("button", name="Copy Client Secret (no longer available)")
    ).to_be_disabled()


async def test_disable_needs_disable_typed_then_tokens_and_delete(
    page: Page, live: LiveServer
) -> None:
    practice = await new_practice(live, scim=True)
    await sign_in(page, live, practice)
    await page.get_by_role("switch").click()
    disable = page.get_by_role("dialog", name="Disable SCIM provisioning?")
    confirm = disable.get_by_role("button", name="Disable")
    await disable.get_by_label("Type DISABLE to confirm").fill("DISABL")
    await confirm.click()  # refused in the page: nothing is sent
    await expect(disable).to_be_visible()
    await expect(disable.locator(".field-error")).to_have_text(
        "Type DISABLE in capital letters to confirm."
    )
    assert (await live.services.practices.show(practice.uuid)).enabled
    await disable.get_by_label("Type DISABLE to confirm").fill("DISABLE")
    await shot(page, "dialog-disable")
    await confirm.click()
    await expect(page.get_by_role("status")).to_contain_text("paused")
    await expect(page.get_by_role("switch")).to_have_attribute("aria-checked", "false")
    await page.get_by_role("switch").click()
    await expect(page.get_by_role("status")).to_contain_text("on again")

    await page.get_by_role("button", name="Create static token").click()
    token = await page.locator("#new-token").input_value()
    assert token.startswith("sst_")
    await page.locator("#new-token ~ a, .callout a").filter(has_text="Done").first.click()
    assert token not in await page.content()
    await page.get_by_role("button", name=f"Revoke token ending {token[-4:]}").click()
    await expect(page.get_by_role("status")).to_contain_text("revoked")
    await expect(page.locator("#audit")).to_contain_text("Static token revoked")

    await page.get_by_role("button", name="Delete Configuration").click()
    delete = page.get_by_role("dialog", name="Delete the SCIM configuration?")
    await delete.get_by_label("Type DELETE to confirm").fill("DELETE")
    await shot(page, "dialog-delete")
    await delete.get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("status")).to_contain_text("deleted")
    await expect(
        page.get_by_role("button", name="Enable SCIM provisioning for this company")
    ).to_be_visible()


async def test_dialogs_by_keyboard_trap_focus_and_close_on_escape(
    page: Page, live: LiveServer
) -> None:
    practice = await new_practice(live, scim=True)
    await sign_in(page, live, practice)
    await page.get_by_role("switch").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Type DISABLE to confirm")).to_be_focused()
    for key in ["Tab"] * 5 + ["Shift+Tab"] * 7:
        await page.keyboard.press(key)
        assert await page.evaluate("document.activeElement.closest('dialog') !== null"), key
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("dialog")).to_have_count(0)
    await expect(page.get_by_role("switch")).to_be_focused()


async def test_staff_assignment_and_add_provider_from_a_scim_user(
    page: Page, live: LiveServer, start_idp: Callable[..., SimulatedOidcIdp]
) -> None:
    practice = await new_practice(live, scim=True)
    idp = start_idp("okta")
    person = IdpPerson("alice", "alice.ng@contoso.org", "Alice", "Ng")
    await provision(live, practice, idp, person)
    await sign_in(page, live, practice)

    await page.get_by_role("link", name="Location & Staff Management").click()
    await page.get_by_label("Location name").fill("Main Street")
    await page.get_by_role("button", name="Add location").click()
    row = page.locator(f'tr[data-user-name="{person.user_name}"]')
    await expect(row).to_contain_text("SCIM-provisioned")
    await expect(row).to_contain_text("Admin Staff")
    await shot(page, "staff-list")
    await row.get_by_role("link", name=f"Edit {person.user_name}").click()
    for label in ("First name", "Last name", "Username", "Cell phone"):
        await expect(page.get_by_label(label, exact=True)).to_be_disabled()
    await expect(page.get_by_label("Email")).to_be_enabled()
    await page.get_by_label("Access level").select_option(label="Clinical Staff")
    await page.get_by_label("Main Street").check()
    await shot(page, "staff-edit-provisioned")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text("saved")
    await expect(row).to_contain_text("Clinical Staff")
    await expect(row).to_contain_text("Main Street")

    await page.get_by_role("link", name="Providers").click()
    await page.get_by_role("link", name="Add Provider").click()
    await expect(page.get_by_label("Choose from a list of existing users")).to_be_checked()
    await page.get_by_label("Existing user", exact=True).select_option(
        label=f"Alice Ng ({person.user_name}) · SCIM-provisioned"
    )
    await expect(page.get_by_label("First name", exact=True)).to_have_value("Alice")
    await expect(page.get_by_label("First name", exact=True)).to_be_disabled()
    await expect(page.get_by_label("Username", exact=True)).to_be_disabled()
    await page.get_by_label("NPI").fill("1234567893")
    await page.get_by_label("Specialty").select_option("Pediatrics")
    await shot(page, "provider-new")
    await page.get_by_role("button", name="Add Provider").click()
    await expect(page.locator("#providers")).to_contain_text("1234567893")
    await expect(page.locator("#providers")).to_contain_text("SCIM-provisioned")
    await shot(page, "providers")


async def test_every_page_fits_1280_and_390_px(
    page: Page, live: LiveServer, start_idp: Callable[..., SimulatedOidcIdp]
) -> None:
    practice = await new_practice(live, scim=True)
    idp = start_idp("google")
    await configure_sso(live, practice, idp)
    person = IdpPerson("hana", "hana.sato@contoso.org", "Hana", "Sato")
    staff_id = await provision(live, practice, idp, person)
    await page.goto(f"{live.base_url}/console/{practice.id}/forgot-password")
    anonymous = ["/console/sign-in", f"/console/{practice.id}/sign-in"]
    await sign_in(page, live, practice)
    pages = {
        "settings-scim": "/console/settings/scim",
        "settings-sso": "/console/settings/sso",
        "staff": "/console/staff",
        "staff-edit": f"/console/staff/{staff_id}",
        "providers-list": "/console/providers",
        "provider-add": "/console/providers/new",
        "account-admin": "/console/account",
    }
    for width, height in ((1280, 900), (390, 844)):
        await page.set_viewport_size({"width": width, "height": height})
        for name, path in pages.items():
            await page.goto(live.base_url + path)
            assert await fits_width(page), f"{name} scrolls sideways at {width} px"
            await shot(page, f"layout-{name}")
    await page.get_by_role("button", name="Sign out").click()
    for width, height in ((1280, 900), (390, 844)):
        await page.set_viewport_size({"width": width, "height": height})
        for path in (*anonymous, f"/console/{practice.id}/forgot-password"):
            await page.goto(live.base_url + path)
            assert await fits_width(page), f"{path} scrolls sideways at {width} px"
            await shot(page, "layout" + path.replace("/", "-").replace(practice.id, "p"))
