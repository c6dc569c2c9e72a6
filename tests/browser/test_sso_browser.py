"""SSO in Chromium: a person SCIM just created signs in through the simulated Entra ID, Okta
and Google with no linking step; a deactivated one is refused; forgot-password never gives an
SSO-linked account a password. Plus the main flow once on PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from simulators.idp import IdpPerson
from tests.browser.a11y import WIDTHS, checked
from tests.browser.flows import (
    clipboard_after_copy,
    configure_sso,
    deactivate,
    new_practice,
    provision,
    shot,
    sign_in,
)
from tests.console.helpers import RULES

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.async_api import BrowserContext, Page

    from simulators.idp import SimulatedOidcIdp
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


async def _configure_in_the_console(
    page: Page, live: LiveServer, idp: SimulatedOidcIdp, practice_id: str, client_id: str
) -> None:
    """Settings → Single Sign-On, filled in as an administrator would."""
    await page.get_by_role("link", name="Single Sign-On").click()
    await page.get_by_label("How a person is recognised").select_option(
        RULES[idp.dialect.name].value
    )
    await page.get_by_label("Issuer").fill(idp.issuer)
    await page.get_by_label("Discovery document URL (optional)").fill(idp.discovery_url)
    await page.get_by_label("Client ID").fill(client_id)
    await page.get_by_label("Client secret").fill("idp-secret")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text("Single sign-on is saved")
    redirect = await page.locator("#redirect-uri").input_value()
    assert redirect == f"{live.base_url}/sso/{practice_id}/callback"
    await shot(page, "settings-sso-saved")
    await page.get_by_role("button", name="Sign out").click()


@pytest.mark.parametrize("dialect", ["entra", "okta", "google"])
async def test_a_freshly_provisioned_user_signs_in_through_the_idp(
    page: Page, live: LiveServer, start_idp: Callable[..., SimulatedOidcIdp], dialect: str
) -> None:
    practice = await new_practice(live, scim=True)
    idp = start_idp(dialect, tenant=TENANT if dialect == "entra" else "contoso")
    if dialect == "entra":
        idp.register_client(
            "entra-app", "idp-secret", [f"{live.base_url}/sso/{practice.id}/callback"]
        )
        await sign_in(page, live, practice)
        await _configure_in_the_console(page, live, idp, practice.id, "entra-app")
    else:
        await configure_sso(live, practice, idp)
    person = idp.add_person(
        IdpPerson(f"emeka-{dialect}", f"emeka.{dialect}@contoso.org", "Emeka", "Okafor")
    )
    await provision(live, practice, idp, person)
    idp.sign_in_as(person.key)

    await page.goto(f"{live.base_url}/console/{practice.id}/sign-in")
    await page.get_by_role("link", name="Sign in with your organisation").click()
    await page.wait_for_url("**/console/account")
    await expect(page.get_by_role("heading", name="Account Setup")).to_be_visible()
    await expect(page.get_by_label("Username")).to_have_value(person.user_name)
    await expect(page.get_by_label("Username")).to_be_disabled()
    await expect(page.locator("#sign-in-method")).to_contain_text(idp.issuer)
    await expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    await shot(page, f"account-after-sso-{dialect}")
    forbidden = await page.goto(f"{live.base_url}/console/settings/scim")
    assert forbidden is not None
    assert forbidden.status == 403


async def test_a_deactivated_user_is_refused(
    context: BrowserContext, live: LiveServer, start_idp: Callable[..., SimulatedOidcIdp]
) -> None:
    practice = await new_practice(live, scim=True)
    idp = start_idp("entra", tenant=TENANT)
    await configure_sso(live, practice, idp)
    person = idp.add_person(IdpPerson("farah", "farah.haddad@contoso.org", "Farah", "Haddad"))
    staff_id = await provision(live, practice, idp, person)
    idp.sign_in_as(person.key)
    page = await context.new_page()
    await page.goto(f"{live.base_url}/console/{practice.id}/sign-in")
    await page.get_by_role("link", name="Sign in with your organisation").click()
    await page.wait_for_url("**/console/account")

    await deactivate(live, practice, staff_id)
    await page.goto(f"{live.base_url}/console/account")
    await page.wait_for_url("**/sign-in")  # the session died with the account
    await page.get_by_role("link", name="Sign in with your organisation").click()
    await expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("deactivated")
    await shot(page, "sso-refused-deactivated")
    audit = await live.services.practices.audit_log(practice.uuid)
    assert any(e.action == "sso.refused" and "reason=deactivated" in e.detail for e in audit)


async def test_forgot_password_answers_every_username_alike(
    page: Page, live: LiveServer, start_idp: Callable[..., SimulatedOidcIdp]
) -> None:
    """The page never tells who the identity provider manages; the SSO user learns how to
    sign in by email (the outbox), and still has no password."""
    practice = await new_practice(live, scim=True)
    idp = start_idp("google")
    await configure_sso(live, practice, idp)
    person = IdpPerson("hana", "hana.sato@contoso.org", "Hana", "Sato")
    await provision(live, practice, idp, person)

    answers = []
    for width, height in WIDTHS:
        await page.set_viewport_size({"width": width, "height": height})
        for name in (person.user_name, "nobody-by-this-name"):
            await page.goto(f"{live.base_url}/console/{practice.id}/sign-in")
            await page.get_by_role("link", name="Forgot password?").click()
            await page.get_by_label("Username").fill(name)
            await page.get_by_role("button", name="Continue").click()
            await expect(page.locator("#link-sent")).to_be_visible()
            await expect(page.locator("#use-organisation")).to_have_count(0)
            answers.append(await page.locator("main").inner_text())
            known = name == person.user_name
            await checked(page, "forgot-password-sso-user" if known else "forgot-password-unknown")
    assert len(set(answers)) == 1  # the same words for everyone
    found = await live.services.store.credentials.find_by_user_name(practice.uuid, person.user_name)
    assert found is not None
    assert found[1] is None  # still no password
    mail = await live.services.store.outbox.list(practice.uuid, limit=10)
    assert {m.recipient for m in mail} == {"hana.sato@contoso.org"}
    assert all("sign in with your organisation" in m.body.lower() for m in mail)
    assert not any("reset-password?token=" in m.body for m in mail)
    audit = await live.services.practices.audit_log(practice.uuid)
    assert any(e.action == "password_reset.refused" for e in audit)


async def test_main_flow_on_postgresql(
    page: Page, live_postgres: LiveServer, start_idp: Callable[..., SimulatedOidcIdp]
) -> None:
    live = live_postgres
    practice = await new_practice(live)
    await sign_in(page, live, practice)
    await page.get_by_role("button", name="Enable SCIM provisioning for this company").click()
    secret = await page.locator("#client-secret").input_value()
    await page.get_by_role("button", name="Copy Client Secret").click()
    assert await clipboard_after_copy(page, secret) == secret
    await page.get_by_role("link", name="Done").click()
    await expect(page.locator("#client-secret")).to_have_value(f"••••••••{secret[-4:]}")
    practice.client_id = await page.locator("#client-id").input_value()
    practice.client_secret = secret
    await page.get_by_role("button", name="Sign out").click()

    idp = start_idp("okta")
    await configure_sso(live, practice, idp)
    person = idp.add_person(IdpPerson("jun", "jun.park@contoso.org", "Jun", "Park"))
    await provision(live, practice, idp, person)
    idp.sign_in_as(person.key)
    await page.goto(f"{live.base_url}/console/{practice.id}/sign-in")
    await page.get_by_role("link", name="Sign in with your organisation").click()
    await page.wait_for_url("**/console/account")
    await expect(page.get_by_label("Username")).to_have_value(person.user_name)
