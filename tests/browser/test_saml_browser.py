"""SAML 2.0 in Chromium: a practice configured with each simulated SAML IdP (Entra ID through
the console page, with the IdP's metadata URL); a person SCIM just created signs in with no
linking step; a deactivated one is refused with a page that says why; a sign-in started from
the IdP's portal is refused while IdP-initiated sign-in is off."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from server.domain.sso import LinkRule
from server.sso.saml_setup import SamlInput, configure_saml
from simulators.idp import IdpPerson
from tests.browser.flows import deactivate, new_practice, provision, shot, sign_in

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.async_api import BrowserContext, Page

    from simulators.idp import SimulatedSamlIdp
    from tests.browser.conftest import LiveServer
    from tests.console.helpers import ConsolePractice

pytestmark = pytest.mark.browser

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


def _register(live: LiveServer, practice: ConsolePractice, idp: SimulatedSamlIdp) -> str:
    """The administrator's step at the IdP: the practice's entity id and reply URL."""
    entity = live.services.saml.entity_id(practice.uuid)
    idp.register_sp(entity, live.services.saml.acs_url(practice.uuid))
    return entity


async def _configure(live: LiveServer, practice: ConsolePractice, idp: SimulatedSamlIdp) -> None:
    _register(live, practice, idp)
    given = SamlInput(link_rule=LinkRule.SAML_NAMEID.value, metadata_url=idp.metadata_url)
    await configure_saml(live.services.sso_configs, practice.uuid, given, actor="test")


async def _configure_in_the_console(
    page: Page, live: LiveServer, idp: SimulatedSamlIdp, practice: ConsolePractice
) -> None:
    """Settings → Single Sign-On: copy the SP values to the IdP, paste its metadata URL."""
    await sign_in(page, live, practice)
    await page.get_by_role("link", name="Single Sign-On").click()
    entity = await page.locator("#sp-metadata").input_value()
    acs = await page.locator("#acs-url").input_value()
    assert entity == f"{live.base_url}/sso/{practice.id}/saml/metadata"
    idp.register_sp(entity, acs)
    await page.get_by_label("Which assertion value identifies a person").select_option(
        LinkRule.SAML_NAMEID.value
    )
    await page.get_by_label("IdP metadata URL").fill(idp.metadata_url)
    await expect(page.get_by_label("Allow sign-in started from")).not_to_be_checked()
    await page.get_by_role("button", name="Use SAML 2.0").click()
    await expect(page.get_by_role("status")).to_contain_text("Single sign-on is saved")
    await expect(page.locator("#sso-protocol")).to_contain_text("SAML 2.0")
    await expect(page.get_by_label("IdP entity ID")).to_have_value(idp.entity_id)
    await shot(page, "settings-sso-saml-saved")
    await page.get_by_role("button", name="Sign out").click()


@pytest.mark.parametrize("dialect", ["entra", "okta", "google"])
async def test_a_freshly_provisioned_user_signs_in_through_the_saml_idp(
    page: Page, live: LiveServer, start_saml_idp: Callable[..., SimulatedSamlIdp], dialect: str
) -> None:
    practice = await new_practice(live, scim=True)
    idp = start_saml_idp(dialect, tenant=TENANT if dialect == "entra" else "contoso")
    if dialect == "entra":
        await _configure_in_the_console(page, live, idp, practice)
    else:
        await _configure(live, practice, idp)
    person = idp.add_person(
        IdpPerson(f"kofi-{dialect}", f"kofi.{dialect}@contoso.org", "Kofi", "Mensah")
    )
    await provision(live, practice, idp, person)  # type: ignore[arg-type]
    idp.sign_in_as(person.key)

    await page.goto(f"{live.base_url}/console/{practice.id}/sign-in")
    await page.get_by_role("link", name="Sign in with your organisation").click()
    await page.wait_for_url("**/console/account")  # the IdP's form posted itself to the ACS
    await expect(page.get_by_label("Username")).to_have_value(person.user_name)
    await expect(page.locator("#sign-in-method")).to_contain_text(idp.entity_id)
    await shot(page, f"account-after-saml-{dialect}")
    assert idp.requests_seen == 1


async def test_a_deactivated_user_is_refused_with_a_page_that_says_why(
    context: BrowserContext, live: LiveServer, start_saml_idp: Callable[..., SimulatedSamlIdp]
) -> None:
    practice = await new_practice(live, scim=True)
    idp = start_saml_idp("okta")
    await _configure(live, practice, idp)
    person = idp.add_person(IdpPerson("ama", "ama.owusu@contoso.org", "Ama", "Owusu"))
    staff_id = await provision(live, practice, idp, person)  # type: ignore[arg-type]
    idp.sign_in_as(person.key)
    page = await context.new_page()
    await page.goto(f"{live.base_url}/console/{practice.id}/sign-in")
    await page.get_by_role("link", name="Sign in with your organisation").click()
    await page.wait_for_url("**/console/account")

    await deactivate(live, practice, staff_id)
    await page.goto(f"{live.base_url}/console/account")
    await page.wait_for_url("**/sign-in")
    await page.get_by_role("link", name="Sign in with your organisation").click()
    await expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("deactivated")
    await shot(page, "saml-refused-deactivated")
    audit = await live.services.practices.audit_log(practice.uuid)
    assert any(e.action == "sso.refused" and "reason=deactivated" in e.detail for e in audit)


async def test_idp_initiated_sign_in_is_refused_while_off(
    page: Page, live: LiveServer, start_saml_idp: Callable[..., SimulatedSamlIdp]
) -> None:
    practice = await new_practice(live, scim=True)
    idp = start_saml_idp("entra", tenant=TENANT)
    await _configure(live, practice, idp)
    person = idp.add_person(IdpPerson("esi", "esi.boateng@contoso.org", "Esi", "Boateng"))
    await provision(live, practice, idp, person)  # type: ignore[arg-type]
    idp.sign_in_as(person.key)
    entity = live.services.saml.entity_id(practice.uuid)

    await page.goto(f"{idp.portal_url}?sp={entity}")  # the app tile in My Apps
    await expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("app portal is turned off")
    await shot(page, "saml-refused-idp-initiated")
    cookies = await page.context.cookies(live.base_url)
    assert "scimlab_session" not in {c["name"] for c in cookies}
    audit = await live.services.practices.audit_log(practice.uuid)
    assert any(e.action == "sso.refused" and "reason=idp_initiated" in e.detail for e in audit)
