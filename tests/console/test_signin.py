"""Administrator sign-in: password plus TOTP, enrollment, replay, lockout, session cookies,
CSRF on every form, and who may open which page."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pyotp

from server.domain.staff import StaffProfile
from tests.console.helpers import LAST_CODE, ConsolePractice, csrf_of, post_form, sign_in_admin

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.services import Services


def _set_cookies(response: Any) -> dict[str, str]:
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0]
        found[name] = header
    return found


async def test_enrollment_shows_qr_and_uri_then_signs_in(
    web: AsyncTestClient[Any], console_practice: ConsolePractice
) -> None:
    page = f"/console/{console_practice.id}/sign-in"
    await post_form(
        web, page, page, {"user_name": "admin", "password": console_practice.admin_password}
    )
    enrollment = await web.get(f"{page}/code")
    assert "<svg" in enrollment.text
    assert "otpauth://totp/" in enrollment.text
    secret = await sign_in_admin(web, console_practice)  # a second, full sign-in
    assert len(secret) == 32
    home = await web.get("/console", follow_redirects=False)
    assert home.headers["location"] == "/console/settings/scim"


async def test_session_cookie_is_secure_httponly_samesite_and_only_hashed_in_the_db(
    web: AsyncTestClient[Any], console_practice: ConsolePractice, store: PiccoloStore
) -> None:
    page = f"/console/{console_practice.id}/sign-in"
    await post_form(
        web, page, page, {"user_name": "admin", "password": console_practice.admin_password}
    )
    code_page = await web.get(f"{page}/code")
    secret = code_page.text.split('id="totp-secret">')[1].split("<")[0]
    done = await web.post(
        f"{page}/code",
        data={"csrf_token": csrf_of(code_page.text), "code": pyotp.TOTP(secret).now()},
    )
    cookie = _set_cookies(done)["scimlab_session"].lower()
    assert "secure" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    token = web.cookies["scimlab_session"]
    table = store._tables.staff_session
    stored = [row["token_hash"] for row in await table.select(table.token_hash).run()]
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored


async def test_code_window_and_no_reuse(
    web: AsyncTestClient[Any], console_practice: ConsolePractice
) -> None:
    secret = await sign_in_admin(web, console_practice)
    used = LAST_CODE[0]
    await post_form(web, "/console/account", "/console/sign-out", {})
    page = f"/console/{console_practice.id}/sign-in"
    await post_form(
        web, page, page, {"user_name": "admin", "password": console_practice.admin_password}
    )
    code_page = await web.get(f"{page}/code")
    replay = await web.post(
        f"{page}/code", data={"csrf_token": csrf_of(code_page.text), "code": used}
    )
    assert replay.status_code == 401
    assert "already used" in replay.text
    next_step = pyotp.TOTP(secret).at(time.time() + 30)  # one step ahead is inside the window
    accepted = await web.post(
        f"{page}/code", data={"csrf_token": csrf_of(replay.text), "code": next_step}
    )
    assert accepted.status_code == 303


async def test_five_failures_lock_the_account_with_a_clear_message(
    web: AsyncTestClient[Any], console_practice: ConsolePractice
) -> None:
    page = f"/console/{console_practice.id}/sign-in"
    for _ in range(4):
        wrong = await post_form(web, page, page, {"user_name": "admin", "password": "nope"})
        assert wrong.status_code == 401
        assert "not correct" in wrong.text
    locked = await post_form(web, page, page, {"user_name": "admin", "password": "nope"})
    assert locked.status_code == 423
    assert "locked until" in locked.text
    right = await post_form(
        web, page, page, {"user_name": "admin", "password": console_practice.admin_password}
    )
    assert right.status_code == 423  # even the right password waits out the lock


async def test_wrong_codes_count_towards_the_lockout(
    web: AsyncTestClient[Any], console_practice: ConsolePractice
) -> None:
    await sign_in_admin(web, console_practice)
    await post_form(web, "/console/account", "/console/sign-out", {})
    page = f"/console/{console_practice.id}/sign-in"
    await post_form(
        web, page, page, {"user_name": "admin", "password": console_practice.admin_password}
    )
    last = None
    for _ in range(5):
        code_page = await web.get(f"{page}/code")
        last = await web.post(
            f"{page}/code", data={"csrf_token": csrf_of(code_page.text), "code": "000000"}
        )
    assert last is not None
    assert last.status_code == 423
    assert "locked until" in last.text


async def test_forms_without_the_csrf_token_are_refused(
    web: AsyncTestClient[Any], console_practice: ConsolePractice, services: Services
) -> None:
    await services.practices.delete(console_practice.uuid, confirm="DELETE", actor="test")
    await sign_in_admin(web, console_practice)
    missing = await web.post("/console/settings/scim/enable", data={})
    forged = await web.post("/console/settings/scim/enable", data={"csrf_token": "x" * 64})
    assert missing.status_code == forged.status_code == 403
    assert "expired" in forged.text
    assert (await web.get("/console/settings/scim")).text.count("Enable SCIM provisioning") == 1
    signed_out = await web.post("/console/sign-out", data={})
    assert signed_out.status_code == 403
    pre_sign_in = await web.post(
        f"/console/{console_practice.id}/sign-in",
        data={"user_name": "admin", "password": console_practice.admin_password},
    )
    assert pre_sign_in.status_code == 403


async def test_the_pre_sign_in_csrf_cookie_is_refused_once_signed_in(
    web: AsyncTestClient[Any], console_practice: ConsolePractice, services: Services
) -> None:
    """Issue 29 item 5: an attacker-chosen ``scimlab_csrf`` cookie with the same value in the
    form issued a static token for a signed-in session; only the session's token counts."""
    await sign_in_admin(web, console_practice)
    web.cookies.set("scimlab_csrf", "attacker-chosen", domain="scimlab.test")
    forged = await web.post("/console/settings/scim/tokens", data={"csrf_token": "attacker-chosen"})
    assert forged.status_code == 403
    assert await services.practices.list_static_tokens(console_practice.uuid) == []
    genuine = await post_form(web, "/console/settings/scim", "/console/settings/scim/tokens", {})
    assert genuine.status_code == 200
    assert len(await services.practices.list_static_tokens(console_practice.uuid)) == 1


async def test_only_practice_administrators_reach_settings(
    web: AsyncTestClient[Any], console_practice: ConsolePractice, services: Services
) -> None:
    anonymous = await web.get("/console/settings/scim", follow_redirects=False)
    assert anonymous.status_code == 303
    staff = await services.team.add_staff(
        console_practice.uuid, StaffProfile(user_name="front.desk"), actor="test"
    )
    session = await services.sign_in.open_session(staff, method="test")
    web.cookies.set("scimlab_session", session.token, domain="scimlab.test")
    for path in (
        "/console/settings/scim",
        "/console/settings/sso",
        "/console/staff",
        "/console/providers",
    ):
        refused = await web.get(path)
        assert refused.status_code == 403, path
        assert "Only practice administrators" in refused.text
    assert (await web.get("/console/account")).status_code == 200


async def test_sign_out_ends_the_session(
    web: AsyncTestClient[Any], console_practice: ConsolePractice, services: Services
) -> None:
    await sign_in_admin(web, console_practice)
    token = web.cookies["scimlab_session"]
    await post_form(web, "/console/account", "/console/sign-out", {})
    assert await services.sign_in.session_user(token) is None
    admin = await services.store.credentials.find_by_user_name(console_practice.uuid, "admin")
    assert admin is not None
    assert admin[0].practice_id == UUID(console_practice.id)


async def test_a_user_name_no_column_can_hold_is_just_not_correct(
    web: AsyncTestClient[Any], console_practice: ConsolePractice, services: Services
) -> None:
    """PostgreSQL cannot compare text holding U+0000 (its driver raised); on either database
    such a name is answered as any unknown one, and the audit keeps it readable."""
    page = f"/console/{console_practice.id}/sign-in"
    for name in ("ad\x00min", "admin\x00"):
        refused = await post_form(web, page, page, {"user_name": name, "password": "nope"})
        assert refused.status_code == 401, refused.text
        assert "not correct" in refused.text
    entries = await services.practices.audit_log(console_practice.uuid)
    actors = {e.actor for e in entries if e.action == "sign_in.failed"}
    assert {"console:ad\ufffdmin", "console:admin\ufffd"} <= actors
