"""The settings, staff, providers and account pages over HTTP (the browser tests drive the same
pages in Chromium): what each form changes, and what it must not."""

from __future__ import annotations

import html as html_lib
import re
from typing import TYPE_CHECKING, Any
from uuid import UUID

from simulators.idp import IdpPerson
from tests.console.helpers import (
    ConsolePractice,
    csrf_of,
    new_console_practice,
    post_form,
    provision,
    sign_in_admin,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.testing import AsyncTestClient

    from server.services import Services
    from simulators.idp import SimulatedOidcIdp

SCIM = "/console/settings/scim"


def _value(html: str, field_id: str) -> str:
    """The value of a copyable field (a read-only text area, so a long value wraps)."""
    found = re.search(rf'<textarea id="{field_id}"[^>]*>([^<]*)</textarea>', html)
    assert found, field_id
    return html_lib.unescape(found.group(1))


async def test_scim_lifecycle_through_the_settings_page(
    web: AsyncTestClient[Any], services: Services
) -> None:
    practice = await new_console_practice(services, scim=False)
    await sign_in_admin(web, practice)
    assert "Enable SCIM provisioning for this company" in (await web.get(SCIM)).text

    enabled = await post_form(web, SCIM, f"{SCIM}/enable", {})
    secret = _value(enabled.text, "client-secret")
    assert secret.startswith("scs_")
    assert _value(enabled.text, "scim-endpoint-url").endswith(f"/scim/v2/{practice.id}")
    assert _value(enabled.text, "token-endpoint-url").endswith("/oauth/token")
    assert enabled.headers["cache-control"] == "no-store"
    again = await web.get(SCIM)
    assert secret not in again.text
    assert _value(again.text, "client-secret") == f"••••••••{secret[-4:]}"

    wrong = await post_form(web, SCIM, f"{SCIM}/disable", {"confirm": "disable"})
    assert wrong.status_code == 400
    assert (await services.practices.show(practice.uuid)).enabled
    paused = await post_form(web, SCIM, f"{SCIM}/disable", {"confirm": "DISABLE"})
    assert paused.status_code == 303
    assert not (await services.practices.show(practice.uuid)).enabled
    assert (
        (await post_form(web, SCIM, f"{SCIM}/enable", {}))
        .headers["location"]
        .endswith("notice=resumed")
    )

    regenerated = await post_form(web, SCIM, f"{SCIM}/regenerate", {})
    new_secret = _value(regenerated.text, "client-secret")
    assert new_secret.startswith("scs_")
    assert new_secret != secret

    token_page = await post_form(web, SCIM, f"{SCIM}/tokens", {})
    token = _value(token_page.text, "new-token")
    assert token.startswith("sst_")
    listed = await web.get(SCIM)
    assert token not in listed.text
    revoke = re.search(r'action="(/console/settings/scim/tokens/[^"]+/revoke)"', listed.text)
    assert revoke is not None
    assert (await post_form(web, SCIM, revoke.group(1), {})).status_code == 303

    assert (await post_form(web, SCIM, f"{SCIM}/delete", {"confirm": "DELETE "})).status_code == 400
    assert (await post_form(web, SCIM, f"{SCIM}/delete", {"confirm": "DELETE"})).status_code == 303
    final = await web.get(SCIM)
    assert "Enable SCIM provisioning for this company" in final.text
    for words in (  # the audit log in words, newest ten on the page
        "SCIM provisioning paused (0 tokens revoked)",
        "SCIM provisioning turned back on",
        "Client secret regenerated",
        "Static token created",
        "Static token revoked",
        "SCIM configuration deleted",
    ):
        assert words in final.text, words


async def test_staff_assignment_keeps_provisioned_fields_read_only(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
) -> None:
    idp = start_idp("okta")
    person = IdpPerson("alice", "alice.ng@contoso.org", "Alice", "Ng")
    staff_id = await provision(web, console_practice, idp, person)
    await sign_in_admin(web, console_practice)
    await post_form(web, "/console/staff", "/console/locations", {"name": "Main Street"})
    [location] = await services.staff_admin.list_locations(console_practice.uuid)

    listing = await web.get("/console/staff")
    assert "SCIM-provisioned" in listing.text
    edit = await web.get(f"/console/staff/{staff_id}")
    for field in ("given_name", "family_name", "user_name", "cell_phone"):
        assert re.search(rf'id="{field}" name="{field}"[^>]* disabled', edit.text), field
    assert re.search(r'id="email" name="email" type="email" value="[^"]*">', edit.text)

    saved = await web.post(
        f"/console/staff/{staff_id}",
        data={
            "csrf_token": csrf_of(edit.text),
            "given_name": "Mallory",  # a disabled field sent anyway is ignored
            "access_level": "clinical_staff",
            "location_ids": str(location.id),
        },
    )
    assert saved.status_code == 303
    view = await services.staff_admin.get_staff(console_practice.uuid, UUID(staff_id))
    assert view.user.profile.given_name == "Alice"
    assert view.user.access_level.value == "clinical_staff"
    assert view.location_ids == (location.id,)


async def test_add_provider_from_a_scim_user(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
) -> None:
    idp = start_idp("entra")
    person = IdpPerson("dana", "dana.lee@contoso.org", "Dana", "Lee")
    staff_id = await provision(web, console_practice, idp, person)
    await sign_in_admin(web, console_practice)
    new = await web.get("/console/providers/new")
    assert "Choose from a list of existing users" in new.text
    assert "SCIM-provisioned" in new.text
    bad = await web.post(
        "/console/providers/",
        data={
            "csrf_token": csrf_of(new.text),
            "existing": "on",
            "staff_id": staff_id,
            "npi": "1234567890",
            "specialty": "Pediatrics",
        },
    )
    assert bad.status_code == 400
    assert "check digit" in bad.text
    added = await web.post(
        "/console/providers/",
        data={
            "csrf_token": csrf_of(new.text),
            "existing": "on",
            "staff_id": staff_id,
            "npi": "1234567893",
            "specialty": "Pediatrics",
        },
    )
    assert added.status_code == 303
    [enrolled] = await services.team.providers(console_practice.uuid)
    assert str(enrolled.user.id) == staff_id
    assert enrolled.user.profile.given_name == "Dana"
    assert "1234567893" in (await web.get("/console/providers")).text


async def test_account_setup_shows_a_provisioned_profile_read_only(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
) -> None:
    idp = start_idp("google")
    person = IdpPerson("farah", "farah@contoso.org", "Farah", "Haddad")
    staff_id = await provision(web, console_practice, idp, person)
    user = await services.store.staff.get(console_practice.uuid, UUID(staff_id))
    assert user is not None
    session = await services.sign_in.open_session(user, method="test")
    web.cookies.set("scimlab_session", session.token, domain="scimlab.test")
    page = await web.get("/console/account")
    assert re.search(
        r'id="user_name" name="user_name"[^>]* value="farah@contoso.org"[^>]* disabled', page.text
    )
    saved = await web.post(
        "/console/account",
        data={"csrf_token": csrf_of(page.text), "user_name": "evil", "email": "f@home.example"},
    )
    assert saved.status_code == 200
    after = await services.store.staff.get(console_practice.uuid, UUID(staff_id))
    assert after is not None
    assert after.profile.user_name == "farah@contoso.org"
    assert after.profile.email == "f@home.example"
