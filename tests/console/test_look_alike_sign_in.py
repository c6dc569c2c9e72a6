"""Signing in finds the account whatever the Unicode form of its userName: the console's
password step and SSO linking compare the key userName uniqueness uses (``text_key``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from server.domain.sso import LinkRule
from simulators.idp import IdpPerson
from tests.console.helpers import ConsolePractice, configure_sso, post_form, provision, sso_sign_in
from tests.look_alikes import DISTINCT, SAME

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.testing import AsyncTestClient

    from server.services import Services
    from simulators.idp import SimulatedOidcIdp

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
FULLWIDTH_ADMIN = "\uff41\uff44\uff4d\uff49\uff4e"


@pytest.mark.parametrize(
    ("typed", "known"),
    [
        (FULLWIDTH_ADMIN, True),
        ("\uff21DMIN", True),  # a fullwidth capital A, then ASCII capitals
        ("adm\u0131n", False),  # dotless i: another name
    ],
)
async def test_the_password_step_finds_admin_in_any_width_or_case(
    web: AsyncTestClient[Any], console_practice: ConsolePractice, typed: str, known: bool
) -> None:
    page = f"/console/{console_practice.id}/sign-in"
    answer = await post_form(
        web, page, page, {"user_name": typed, "password": console_practice.admin_password}
    )
    if known:
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == f"{page}/code"
    else:
        assert answer.status_code == 401, answer.text
        assert "not correct" in answer.text


async def _sign_in_as_look_alike(
    web: AsyncTestClient[Any],
    practice: ConsolePractice,
    services: Services,
    idp: SimulatedOidcIdp,
    provisioned: str,
    claimed: str,
) -> int:
    """Provision ``provisioned``, let the IdP claim ``claimed`` (its UPN), answer the callback."""
    await configure_sso(services, practice, idp, rule=LinkRule.ENTRA_UPN)
    person = idp.add_person(IdpPerson("p", f"{claimed}@contoso.org", "Pat", "Lee"))
    await provision(web, practice, idp, IdpPerson("p", f"{provisioned}@contoso.org"))
    idp.sign_in_as(person.key)
    return (await sso_sign_in(web, practice)).status_code


@pytest.mark.parametrize(("provisioned", "claimed"), SAME)
async def test_sso_links_a_look_alike_upn(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
    provisioned: str,
    claimed: str,
) -> None:
    idp = start_idp("entra", tenant=TENANT)
    status = await _sign_in_as_look_alike(
        web, console_practice, services, idp, provisioned, claimed
    )
    assert status == 303


@pytest.mark.parametrize(("provisioned", "claimed"), DISTINCT)
async def test_sso_does_not_link_a_different_upn(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_idp: Callable[..., SimulatedOidcIdp],
    provisioned: str,
    claimed: str,
) -> None:
    idp = start_idp("entra", tenant=TENANT)
    status = await _sign_in_as_look_alike(
        web, console_practice, services, idp, provisioned, claimed
    )
    assert status == 403
    assert "scimlab_session" not in web.cookies
