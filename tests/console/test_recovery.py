"""Forgot password: SCIM-provisioned accounts never get a password from it; hand-made staff
keep the usual reset by emailed link (the outbox)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from server.domain.staff import StaffProfile
from simulators.idp import IdpPerson
from tests.console.helpers import ConsolePractice, configure_sso, csrf_of, post_form, provision

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.testing import AsyncTestClient

    from server.services import Services
    from simulators.idp import SimulatedOidcIdp


async def _forgot(web: AsyncTestClient[Any], practice: ConsolePractice, user_name: str) -> str:
    page = f"/console/{practice.id}/forgot-password"
    answered = await post_form(web, page, page, {"user_name": user_name})
    assert answered.status_code == 200
    return answered.text


async def _password_hash(services: Services, practice: ConsolePractice, name: str) -> str | None:
    found = await services.store.credentials.find_by_user_name(practice.uuid, name)
    assert found is not None
    return found[1]


async def test_an_sso_linked_user_is_sent_to_the_organisation_and_nothing_is_created(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
) -> None:
    idp = start_idp("google")
    await configure_sso(services, console_practice, idp)
    person = idp.add_person(IdpPerson("hana", "hana.sato@contoso.org", "Hana", "Sato"))
    await provision(web, console_practice, idp, person)

    page = await _forgot(web, console_practice, "HANA.SATO@contoso.org")
    assert 'id="use-organisation"' not in page
    assert page == await _forgot(web, console_practice, "nobody")  # the same for everyone
    assert await _password_hash(services, console_practice, person.user_name) is None
    mail = await services.store.outbox.list(console_practice.uuid, limit=10)
    assert [m.recipient for m in mail] == ["hana.sato@contoso.org"]  # how to sign in, no link
    assert "token=" not in mail[0].body
    audit = await services.practices.audit_log(console_practice.uuid)
    refused = [e for e in audit if e.action == "password_reset.refused"]
    assert len(refused) == 1
    assert refused[0].detail == "reason=sso_linked"


async def test_a_scim_user_without_sso_yet_gets_no_password_either(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
) -> None:
    idp = start_idp("okta")
    person = IdpPerson("bo", "bo.silva@contoso.org", "Bo", "Silva")
    await provision(web, console_practice, idp, person)
    assert 'id="link-sent"' in await _forgot(web, console_practice, person.user_name)
    assert await _password_hash(services, console_practice, person.user_name) is None
    audit = await services.practices.audit_log(console_practice.uuid)
    assert any(e.detail == "reason=scim_managed" for e in audit)


async def test_hand_made_staff_reset_their_password_by_emailed_link(
    web: AsyncTestClient[Any], console_practice: ConsolePractice, services: Services
) -> None:
    await services.team.add_staff(
        console_practice.uuid,
        StaffProfile(user_name="reception", email="reception@clinic.example"),
        actor="test",
    )
    assert 'id="link-sent"' in await _forgot(web, console_practice, "reception")
    [message] = await services.store.outbox.list(console_practice.uuid, limit=10)
    assert message.recipient == "reception@clinic.example"
    link = re.search(r"https://scimlab.test(/console/\S+)", message.body)
    assert link is not None
    form = await web.get(link.group(1))
    assert form.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token is not None
    short = await web.post(
        f"/console/{console_practice.id}/reset-password",
        data={"csrf_token": csrf_of(form.text), "token": token.group(1), "password": "short"},
    )
    assert short.status_code == 400
    done = await web.post(
        f"/console/{console_practice.id}/reset-password",
        data={
            "csrf_token": csrf_of(form.text),
            "token": token.group(1),
            "password": "a long new password",
        },
    )
    assert done.status_code == 303
    assert await _password_hash(services, console_practice, "reception") is not None
    again = await web.get(link.group(1))
    assert again.status_code == 400  # the link works once

    page = f"/console/{console_practice.id}/sign-in"
    signed = await post_form(
        web, page, page, {"user_name": "reception", "password": "a long new password"}
    )
    assert signed.headers["location"].endswith("/sign-in/code")  # then the authenticator


async def test_unknown_names_get_the_same_answer_and_no_email(
    web: AsyncTestClient[Any], console_practice: ConsolePractice, services: Services
) -> None:
    assert 'id="link-sent"' in await _forgot(web, console_practice, "nobody-here")
    assert await services.store.outbox.list(console_practice.uuid, limit=10) == []


async def test_a_name_no_column_can_hold_gets_the_unknown_names_answer(
    web: AsyncTestClient[Any], console_practice: ConsolePractice, services: Services
) -> None:
    assert 'id="link-sent"' in await _forgot(web, console_practice, "recep\x00tion")
    assert await services.store.outbox.list(console_practice.uuid, limit=10) == []
