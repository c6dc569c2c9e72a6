"""SSO linking (SL): a provisioned user is linked to the practice's identity provider when it
is created, signs in only through it, and loses that sign-in when deactivated or deleted.

Platform rule (SCIM with SSO): the link is made at provisioning time, so no manual linking
and no platform password; the forgot-password path must not mint standalone credentials.
With ``--platform-url`` and ``--admin-key`` each check configures the practice's SSO
with a simulated Okta on loopback for its duration (``conformance.sso``) and signs people in
as a browser would; without them every check is "not applicable".
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from conformance import actions, scim
from conformance.registry import check
from conformance.sso import REDIRECTS, sso

if TYPE_CHECKING:
    from conformance.session import Session
    from conformance.sso import Sso
    from simulators.idp import IdpPerson

SSO_RULE = "platform rule: SCIM with SSO"
#: The forgot-password page's notice that an account signs in through its organisation.
USE_ORGANISATION = 'id="use-organisation"'
#: The one answer forgot-password gives every username (it must not reveal who the IdP manages).
LINK_SENT = 'id="link-sent"'


#: How a check gets its harness: the simulated Okta (OIDC) here, a simulated Entra ID (SAML)
#: in ``conformance.saml_checks``, which runs these same checks again.
Harness = Callable[["Session"], Awaitable["Sso"]]


async def _provisioned(s: Session, harness_for: Harness) -> tuple[Sso, IdpPerson, dict[str, Any]]:
    harness = await harness_for(s)
    person = harness.person("sl")
    return harness, person, await harness.provision(person)


async def _no_password(s: Session, harness: Sso, user: dict[str, Any], when: str) -> None:
    """The staff account reads ``has_password: false`` (when the platform shows it)."""
    record = await harness.admin.staff(str(user["id"]), str(user["userName"]))
    has_password = record.get("has_password", False)
    s.expect(has_password is False, f"{when}, the SSO user's account has a password", None)


async def signs_in_with(s: Session, harness_for: Harness) -> None:
    """SL-001 with any harness (run again for SAML as SL-006)."""
    harness, person, user = await _provisioned(s, harness_for)
    _, account = await harness.expect_signed_in(person)
    shown = account.text.casefold()
    s.expect(person.user_name.casefold() in shown, "the session is not the SSO user's", account)
    await _no_password(s, harness, user, "after the SSO sign-in")


@check("SL-001", "A provisioned user signs in through the IdP with no linking", rule=SSO_RULE)
async def signs_in(s: Session) -> None:
    """Platform rule (SCIM with SSO): a user created over SCIM is linked to the practice's
    identity provider at provisioning time and signs in through it at once, with no manual
    linking and no platform password."""
    await signs_in_with(s, sso)


async def no_password_with(s: Session, harness_for: Harness) -> None:
    """SL-002 with any harness (run again for SAML as SL-007)."""
    harness, person, user = await _provisioned(s, harness_for)
    practice = harness.admin.practice_id
    forgot = await harness.submit(
        f"/console/{practice}/forgot-password", {"user_name": person.user_name}
    )
    s.expect(
        forgot.status_code == 200
        and LINK_SENT in forgot.text
        and USE_ORGANISATION not in forgot.text,
        "forgot-password answered the SSO user differently from any other username",
        forgot,
    )
    await _no_password(s, harness, user, "after forgot-password")
    attempt = await harness.submit(
        f"/console/{practice}/sign-in",
        {"user_name": person.user_name, "password": secrets.token_urlsafe(18)},
    )
    s.expect(
        attempt.status_code not in REDIRECTS and attempt.status_code < 500,
        f"a password sign-in of the SSO user answered {attempt.status_code}",
        attempt,
    )


@check("SL-002", "No standalone credentials for SSO users, forgot-password included", rule=SSO_RULE)
async def no_password(s: Session) -> None:
    """Platform rule (SCIM with SSO): no password is ever created for a provisioned user, and
    the forgot-password flow does not mint standalone credentials that bypass the IdP: it
    tells the person to sign in through their organisation, and a password sign-in still
    gets nowhere."""
    await no_password_with(s, sso)


async def deactivated_refused_with(s: Session, harness_for: Harness) -> None:
    """SL-003 with any harness (run again for SAML as SL-008)."""
    harness, person, user = await _provisioned(s, harness_for)
    await harness.expect_signed_in(person)
    off = scim.patch({"op": "replace", "path": "active", "value": False})
    response = await s.scim("PATCH", f"/Users/{user['id']}", json=off)
    s.expect_status(response, 200, 204, doing="deactivating the user")
    await harness.expect_refused(person, "a deactivated user")


@check("SL-003", "A deactivated user's SSO sign-in is refused", rule=SSO_RULE + "; deactivation")
async def deactivated_refused(s: Session) -> None:
    """Platform rule (deactivation blocks sign-in): after ``active=false`` arrives over SCIM,
    an SSO assertion for the user is refused (the same user signed in just before)."""
    await deactivated_refused_with(s, sso)


async def deleted_refused_with(s: Session, harness_for: Harness) -> None:
    """SL-004 with any harness (run again for SAML as SL-009)."""
    harness, person, user = await _provisioned(s, harness_for)
    await harness.expect_signed_in(person)
    response = await s.scim("DELETE", f"/Users/{user['id']}")
    s.expect_status(response, 204, doing="deleting the user")
    await harness.expect_refused(person, "a deleted user")


@check("SL-004", "A deleted user's SSO sign-in is refused", rule=SSO_RULE + "; RFC 7644 §3.6")
async def deleted_refused(s: Session) -> None:
    """Platform rule, with RFC 7644 §3.6: after a SCIM DELETE, an SSO assertion for the user is
    refused (the same user signed in just before)."""
    await deleted_refused_with(s, sso)


async def unknown_refused_with(s: Session, harness_for: Harness) -> None:
    """SL-005 with any harness (run again for SAML as SL-010)."""
    harness, known, _ = await _provisioned(s, harness_for)
    await harness.expect_signed_in(known)
    stranger = harness.person("stranger", email=known.user_name)
    await harness.expect_refused(stranger, "an identity that was never provisioned")
    listing, found = await actions.filter_users(s, f'userName eq "{stranger.user_name}"')
    s.expect(not found, "the refused sign-in created a SCIM user", listing)
    record = await harness.admin.find_staff(stranger.user_name)
    s.expect(record is None, "the refused sign-in created a staff account", None)


@check("SL-005", "An identity that was never provisioned cannot sign in", rule=SSO_RULE)
async def unknown_refused(s: Session) -> None:
    """Platform rule (accounts come from provisioning): an SSO assertion for an identity the
    practice never provisioned is refused and creates no account, even when its email is a
    provisioned user's (the link is the IdP's id, ``sub``, not an email); a provisioned user
    of the same identity provider signs in just before."""
    await unknown_refused_with(s, sso)
