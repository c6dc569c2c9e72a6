"""SSO with linking at provisioning, end to end in-process: the app, the simulated identity
providers on loopback, SCIM creating the people (idp-behaviors §6 X-01)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import pytest

from server.domain.sso import LinkRule
from simulators.idp import IdpPerson
from tests.console.helpers import (
    PATCH_SCHEMA,
    ConsolePractice,
    configure_sso,
    provision,
    scim_headers,
    sso_sign_in,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.services import Services
    from simulators.idp import SimulatedOidcIdp

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


def _person(key: str) -> IdpPerson:
    return IdpPerson(key, f"{key}@contoso.org", key.title(), "Okafor")


async def _audit(services: Services, practice: ConsolePractice, action: str) -> list[str]:
    entries = await services.practices.audit_log(practice.uuid)
    return [e.detail for e in entries if e.action == action]


@pytest.mark.parametrize("dialect", ["entra", "okta", "google"])
async def test_a_freshly_provisioned_user_signs_in_with_no_linking_step(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
    dialect: str,
) -> None:
    idp = start_idp(dialect, tenant=TENANT if dialect == "entra" else "contoso")
    await configure_sso(services, console_practice, idp)
    person = idp.add_person(_person(f"emeka-{dialect}"))
    staff_id = await provision(web, console_practice, idp, person)

    staff = await services.staff_admin.get_staff(console_practice.uuid, UUID(staff_id))
    assert staff.user.sso_issuer == idp.issuer
    assert staff.user.sso_subject is not None
    assert staff.user.has_password is False

    idp.sign_in_as(person.key)
    callback = await sso_sign_in(web, console_practice)
    assert callback.status_code == 303, callback.text
    assert callback.headers["location"] == "/console"
    assert "scimlab_session" in web.cookies
    home = await web.get("/console")
    assert home.headers["location"] == "/console/account"  # staff, not an administrator
    account = await web.get("/console/account")
    assert person.user_name in account.text
    assert "identity provider" in account.text
    assert any(
        "method=sso" in d for d in await _audit(services, console_practice, "sign_in.succeeded")
    )


async def test_entra_upn_rule_matches_whatever_the_case(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
) -> None:
    idp = start_idp("entra", tenant=TENANT)
    await configure_sso(services, console_practice, idp, rule=LinkRule.ENTRA_UPN)
    person = idp.add_person(IdpPerson("farah", "Farah.Haddad@Contoso.org", "Farah", "Haddad"))
    shouted = IdpPerson("farah", "FARAH.HADDAD@contoso.ORG", "Farah", "Haddad")
    await provision(web, console_practice, idp, shouted)
    idp.sign_in_as(person.key)
    assert (await sso_sign_in(web, console_practice)).status_code == 303


async def _refused(web: AsyncTestClient[Any], practice: ConsolePractice, text: str) -> None:
    callback = await sso_sign_in(web, practice)
    assert callback.status_code == 403, callback.text
    assert "Sign-in refused" in callback.text
    assert text in callback.text
    assert "scimlab_session" not in web.cookies


@pytest.mark.parametrize("how", ["patch", "put", "delete"])
async def test_deactivated_or_deleted_users_are_refused_and_audited(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
    how: str,
) -> None:
    idp = start_idp("okta")
    await configure_sso(services, console_practice, idp)
    person = idp.add_person(_person(f"gone-{how}"))
    staff_id = await provision(web, console_practice, idp, person)
    headers = await scim_headers(web, console_practice)
    url = f"/scim/v2/{console_practice.id}/Users/{staff_id}"
    if how == "patch":
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        }
        assert (await web.patch(url, json=body, headers=headers)).status_code == 200
    elif how == "put":
        current = (await web.get(url, headers=headers)).json()
        assert (await web.put(url, json={**current, "active": False}, headers=headers)).is_success
    else:
        assert (await web.delete(url, headers=headers)).status_code == 204
    idp.sign_in_as(person.key)
    reason = "deleted" if how == "delete" else "deactivated"
    await _refused(web, console_practice, "removed" if how == "delete" else "deactivated")
    assert any(
        f"reason={reason}" in d for d in await _audit(services, console_practice, "sso.refused")
    )


async def test_an_identity_nobody_provisioned_is_refused(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
) -> None:
    idp = start_idp("google")
    await configure_sso(services, console_practice, idp)
    idp.sign_in_as(idp.add_person(_person("stranger")).key)
    await _refused(web, console_practice, "has not been set up")
    details = await _audit(services, console_practice, "sso.refused")
    assert any("reason=not_provisioned" in d for d in details)
    staff = await services.staff_admin.list_staff(console_practice.uuid)
    assert [v.user.profile.user_name for v in staff] == ["admin"]  # nothing created


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "https://login.microsoftonline.com/another-tenant/v2.0"}, "foreign_idp"),
        ({"aud": "another-practices-app"}, "foreign_idp"),
        ({"nonce": "not-the-one-sent"}, "invalid_token nonce_mismatch"),
        ({"exp": 1_000_000_000}, "invalid_token expired"),
    ],
)
async def test_tokens_from_another_idp_or_that_do_not_fit_are_refused(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
    overrides: dict[str, Any],
    reason: str,
) -> None:
    idp = start_idp("entra", tenant=TENANT)
    await configure_sso(services, console_practice, idp)
    person = idp.add_person(_person("chen"))
    await provision(web, console_practice, idp, person)
    idp.sign_in_as(person.key)
    idp.token_overrides = overrides
    callback = await sso_sign_in(web, console_practice)
    assert callback.status_code == 403
    assert any(
        f"reason={reason}" in d for d in await _audit(services, console_practice, "sso.refused")
    )


async def test_state_is_bound_to_the_browser_and_used_once(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
) -> None:
    idp = start_idp("okta")
    await configure_sso(services, console_practice, idp)
    person = idp.add_person(_person("jun"))
    await provision(web, console_practice, idp, person)
    idp.sign_in_as(person.key)

    started = await web.get(f"/sso/{console_practice.id}/start")
    async with httpx.AsyncClient() as browser:
        answered = await browser.get(started.headers["location"])
    back = urlsplit(answered.headers["location"])
    callback = f"{back.path}?{back.query}"
    state_cookie = web.cookies["scimlab_sso"]
    web.cookies.delete("scimlab_sso")  # another browser brings the same callback
    assert (await web.get(callback)).status_code == 403

    web.cookies.set(
        "scimlab_sso", state_cookie, domain="scimlab.test", path=back.path.rsplit("/", 1)[0] + "/"
    )
    assert (await web.get(callback)).status_code == 303  # the right browser gets in
    web.cookies.delete("scimlab_session")
    web.cookies.set(
        "scimlab_sso", state_cookie, domain="scimlab.test", path=back.path.rsplit("/", 1)[0] + "/"
    )
    assert (await web.get(callback)).status_code == 403  # a state is good for one sign-in
    assert any("reason=state" in d for d in await _audit(services, console_practice, "sso.refused"))


async def test_the_pkce_verifier_must_match_what_the_idp_saw(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    store: PiccoloStore,
    start_idp: Callable[..., SimulatedOidcIdp],
) -> None:
    idp = start_idp("google")
    await configure_sso(services, console_practice, idp)
    person = idp.add_person(_person("ivan"))
    await provision(web, console_practice, idp, person)
    idp.sign_in_as(person.key)
    started = await web.get(f"/sso/{console_practice.id}/start")
    flows = store._tables.sign_in_flow
    await flows.update({flows.code_verifier: "x" * 64}).where(flows.kind == "sso").run()
    async with httpx.AsyncClient() as browser:
        answered = await browser.get(started.headers["location"])
    back = urlsplit(answered.headers["location"])
    assert (await web.get(f"{back.path}?{back.query}")).status_code == 403
    details = await _audit(services, console_practice, "sso.refused")
    assert any("token_exchange" in d for d in details)


async def test_configuring_sso_links_accounts_provisioned_before(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
) -> None:
    idp = start_idp("okta")
    person = idp.add_person(_person("goran"))
    await provision(web, console_practice, idp, person)
    await configure_sso(services, console_practice, idp)
    idp.sign_in_as(person.key)
    assert (await sso_sign_in(web, console_practice)).status_code == 303
    assert any(
        "relinked=1" in d for d in await _audit(services, console_practice, "sso.configured")
    )


async def test_management_api_configures_sso_and_never_returns_the_secret(
    web: AsyncTestClient[Any], console_practice: ConsolePractice
) -> None:
    url = f"/api/v1/practices/{console_practice.id}/sso"
    headers = {"Authorization": f"Bearer {console_practice.admin_api_key}"}
    assert (await web.get(url, headers=headers)).status_code == 404
    body = {
        "issuer": "https://dev-1234.okta.com/oauth2/default",
        "client_id": "0oa1",
        "client_secret": "shh-very-secret",
        "link_rule": "sub:externalId",
    }
    saved = await web.put(url, json=body, headers=headers)
    assert saved.status_code == 200, saved.text
    shown = (await web.get(url, headers=headers)).json()
    assert shown["client_secret_set"] is True
    assert "shh-very-secret" not in str(shown)
    assert shown["claim"] == "sub"
    assert shown["redirect_uri"].endswith(f"/sso/{console_practice.id}/callback")
    bad_rule = await web.put(url, json={**body, "link_rule": "sub:userName"}, headers=headers)
    plain_http = await web.put(url, json={**body, "issuer": "http://idp.example"}, headers=headers)
    assert bad_rule.status_code == plain_http.status_code == 400
    assert (await web.put(url, json=body)).status_code == 401


async def test_management_api_removes_sso_and_the_links_it_made(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
) -> None:
    url = f"/api/v1/practices/{console_practice.id}/sso"
    headers = {"Authorization": f"Bearer {console_practice.admin_api_key}"}
    idp = start_idp("okta")
    await configure_sso(services, console_practice, idp)
    person = idp.add_person(_person("hana"))
    staff_id = await provision(web, console_practice, idp, person)

    assert (await web.delete(url)).status_code == 401
    removed = await web.delete(url, headers=headers)
    assert removed.status_code == 204, removed.text
    assert not removed.content
    assert (await web.get(url, headers=headers)).status_code == 404
    assert (await web.delete(url, headers=headers)).status_code == 404
    staff = await services.staff_admin.get_staff(console_practice.uuid, UUID(staff_id))
    assert (staff.user.sso_issuer, staff.user.sso_subject) == (None, None)
    assert await _audit(services, console_practice, "sso.removed") == [
        f"issuer={idp.issuer} unlinked=1"
    ]
    idp.sign_in_as(person.key)
    refused = await web.get(f"/sso/{console_practice.id}/start")
    assert refused.status_code == 403
    assert "not set up sign-in" in refused.text

    await configure_sso(services, console_practice, idp)  # links the account again
    assert (await sso_sign_in(web, console_practice)).status_code == 303
