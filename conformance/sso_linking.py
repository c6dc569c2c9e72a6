"""SSO linking (SL): a provisioned user is linked to the practice's identity provider when it
is created, signs in only through it, and loses that sign-in when deactivated or deleted.

Platform rule (SCIM with SSO): the link is made at provisioning time, so no manual linking
and no platform password; the forgot-password path must not mint standalone credentials.
These checks need the platform's SSO sign-in, which arrives with the web console and SSO
issue; until then every one of them reports "not applicable" with that reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.registry import check

if TYPE_CHECKING:
    from conformance.session import Session

SSO_RULE = "platform rule: SCIM with SSO"
PENDING = "waits for the web console and SSO issue: the platform offers no SSO sign-in to drive yet"


def _pending(s: Session) -> None:
    if s.target.platform_url is None:
        s.not_applicable(PENDING + " (and needs --platform-url)")
    s.not_applicable(PENDING)


@check("SL-001", "A provisioned user signs in through the IdP with no linking", rule=SSO_RULE)
async def signs_in(s: Session) -> None:
    """Platform rule (SCIM with SSO): a user created over SCIM is linked to the practice's
    identity provider at provisioning time and signs in through it at once, with no manual
    linking and no platform password."""
    _pending(s)


@check("SL-002", "No standalone credentials for SSO users, forgot-password included", rule=SSO_RULE)
async def no_password(s: Session) -> None:
    """Platform rule (SCIM with SSO): no password is ever created for a provisioned user, and
    the forgot-password flow does not mint standalone credentials that bypass the IdP."""
    _pending(s)


@check("SL-003", "A deactivated user's SSO sign-in is refused", rule=SSO_RULE + "; deactivation")
async def deactivated_refused(s: Session) -> None:
    """Platform rule (deactivation blocks sign-in): after ``active=false`` arrives over SCIM,
    an SSO assertion for the user is refused."""
    _pending(s)


@check("SL-004", "A deleted user's SSO sign-in is refused", rule=SSO_RULE + "; RFC 7644 §3.6")
async def deleted_refused(s: Session) -> None:
    """Platform rule, with RFC 7644 §3.6: after a SCIM DELETE, an SSO assertion for the user is
    refused."""
    _pending(s)


@check("SL-005", "An identity that was never provisioned cannot sign in", rule=SSO_RULE)
async def unknown_refused(s: Session) -> None:
    """Platform rule (accounts come from provisioning): an SSO assertion for an identity the
    practice never provisioned creates no account and is refused."""
    _pending(s)
