"""The audit log in words: who acted (a person by name, the identity provider by its
credential), what happened, and the staff member it concerned, linked to their page.

Entries are stored as codes (``scim.secret_regenerated``, ``tokens_revoked=2``) so that
scripts can read them; this module is the only place that turns them into sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from server.domain.acting import IDP_ACTOR, ActingCredential

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from server.domain.practices import AuditEntry
    from server.domain.staff import StaffUser

__all__ = ["ACTOR_FILTERS", "KIND_FILTERS", "AuditLine", "describe", "mentioned_staff"]

#: The "What" filter: a label and the action prefixes it selects.
KIND_FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "accounts": ("Accounts changed by the identity provider", ("scim.user_",)),
    "connection": (
        "SCIM connection and credentials",
        (
            "scim.enabled",
            "scim.resumed",
            "scim.disabled",
            "scim.secret",
            "scim.deleted",
            "scim.static",
        ),
    ),
    "staff": ("Staff, providers and locations", ("staff.", "provider.", "location.", "role.")),
    "sign_in": ("Sign-in, passwords and single sign-on", ("sign_in.", "password_reset.", "sso.")),
}
#: The "Who" filter: a label and the actor prefix it selects.
ACTOR_FILTERS: dict[str, tuple[str, str]] = {
    "idp": ("The identity provider", "idp"),
    "console": ("People in the console", "console:"),
    "operator": ("Operators (command line)", "operator:"),
}

FIELD_WORDS = {
    "user_name": "username",
    "given_name": "first name",
    "family_name": "last name",
    "cell_phone": "cell phone",
    "email": "email",
    "external_id": "external ID",
    "access_level": "access level",
    "locations": "locations",
}
_ACTIONS = {
    "practice.created": "Practice created",
    "scim.enabled": "SCIM provisioning enabled",
    "scim.resumed": "SCIM provisioning turned back on",
    "scim.disabled": "SCIM provisioning paused",
    "scim.secret_regenerated": "Client secret regenerated",
    "scim.deleted": "SCIM configuration deleted",
    "scim.static_token_created": "Static token created",
    "scim.static_token_revoked": "Static token revoked",
    "scim.user_created": "Account created",
    "scim.user_updated": "Account updated",
    "scim.user_deactivated": "Account deactivated",
    "scim.user_reactivated": "Account reactivated",
    "scim.user_deleted": "Account deleted by the identity provider (kept, deactivated)",
    "staff.created": "Staff account added",
    "staff.updated": "Staff details changed",
    "provider.added": "Provider role given",
    "provider.updated": "Provider details changed",
    "provider.removed": "Provider role removed",
    "role.admin_granted": "Administrator role given",
    "role.admin_revoked": "Administrator role removed",
    "location.created": "Location added",
    "sign_in.succeeded": "Signed in",
    "sign_in.failed": "Sign-in failed",
    "sign_in.locked": "Sign-in locked after too many failures",
    "password_reset.sent": "Password reset link emailed",
    "password_reset.completed": "Password changed with a reset link",
    "password_reset.refused": "Password reset refused",
    "password_reset.ignored": "Password reset asked for, nothing sent",
    "password_reset.redirected": "Password reset asked for; told by email to use single sign-on",
    "sso.configured": "Single sign-on configured",
    "sso.removed": "Single sign-on removed",
    "sso.refused": "Single sign-on refused",
}
_REASONS = {
    "unknown_user": "no such username",
    "deactivated": "the account is deactivated",
    "deleted": "the account was deleted",
    "password": "wrong password",
    "code": "wrong authenticator code",
    "not_provisioned": "no provisioned account matches",
    "no_account": "no such username",
    "no_email": "the account has no email address",
    "scim_managed": "the account signs in through the practice's organisation",
}
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_SUBJECT = re.compile(rf"\bstaff=({_UUID})")
_SUBJECT_ID = re.compile(rf"\bid=({_UUID})")  # older staff entries name the account by id=
_TOKENS = re.compile(r"\btokens_revoked=(\d+)")
_FIELDS = re.compile(r"\bfields=\[?([a-z_,' ]*)\]?")
_REASON = re.compile(r"\breason=([a-z_]+)")
_CLIENT = re.compile(r"\bclient_id=(\S+)")
_NAME = re.compile(r"\bname=(.+)$")


@dataclass(frozen=True, slots=True)
class AuditLine:
    at: datetime
    who: str
    who_href: str | None
    what: str
    subject: str | None
    subject_href: str | None
    address: str


def mentioned_staff(entries: Iterable[AuditEntry]) -> set[UUID]:
    """The staff ids the entries' details name, to be read in one go."""
    return {found for e in entries if (found := _subject(e)) is not None}


def _subject(entry: AuditEntry) -> UUID | None:
    found = _SUBJECT.search(entry.detail)
    if found is None and entry.action.startswith("staff."):
        found = _SUBJECT_ID.search(entry.detail)
    return None if found is None else UUID(found.group(1))


def _person(user: StaffUser) -> str:
    name = " ".join(p for p in (user.profile.given_name, user.profile.family_name) if p)
    return name or user.profile.user_name


def _tail(value: str) -> str:
    return f"…{value[-4:]}"


def _who(
    actor: str, by_user_name: Mapping[str, StaffUser], is_self: UUID | None
) -> tuple[str, str | None]:
    kind, _, rest = actor.partition(":")
    if kind == IDP_ACTOR:
        credential = ActingCredential.from_actor(actor)
        return (
            f"Identity provider ({credential.label})" if credential else "Identity provider"
        ), None
    if kind == "console":
        user = by_user_name.get(rest.casefold())
        if user is None:
            return f"Someone signing in as “{rest}”", None
        role = "administrator" if user.is_practice_admin else "staff"
        name = f"{_person(user)}, {role}" + (" (you)" if user.id == is_self else "")
        return name, f"/console/staff/{user.id}"
    if kind == "operator":
        return f"Operator {rest} (command line)", None
    if kind == "sso":
        return (
            "Scheduled metadata refresh" if rest == "metadata-refresh" else "Single sign-on"
        ), None
    return actor, None


def _what(entry: AuditEntry) -> str:
    text = _ACTIONS.get(entry.action, entry.action)
    detail = entry.detail
    extras: list[str] = []
    if (fields := _FIELDS.search(detail)) and fields.group(1).strip():
        names = [f.strip(" '") for f in fields.group(1).split(",")]
        extras.append(", ".join(FIELD_WORDS.get(n, n) for n in names if n))
    if (tokens := _TOKENS.search(detail)) is not None:
        count = int(tokens.group(1))
        extras.append(f"{count} token{'' if count == 1 else 's'} revoked")
    if (reason := _REASON.search(detail)) is not None:
        extras.append(_REASONS.get(reason.group(1), reason.group(1).replace("_", " ")))
    if entry.action == "scim.enabled" and (client := _CLIENT.search(detail)):
        extras.append(f"client ID {_tail(client.group(1))}")
    if entry.action == "location.created" and (name := _NAME.search(detail)):
        extras.append(f"“{name.group(1)}”")
    return f"{text} ({'; '.join(extras)})" if extras else text


def describe(
    entry: AuditEntry,
    staff: Mapping[UUID, StaffUser],
    by_user_name: Mapping[str, StaffUser],
    *,
    viewer_id: UUID | None = None,
) -> AuditLine:
    """One entry in words; ``staff`` holds the accounts the details name, ``by_user_name``
    the practice's accounts by case-folded username (console actors are usernames)."""
    who, who_href = _who(entry.actor, by_user_name, viewer_id)
    subject = subject_href = None
    if (found := _subject(entry)) is not None:
        user = staff.get(found)
        if user is not None:
            subject, subject_href = _person(user), f"/console/staff/{user.id}"
        else:
            subject = "a removed account"
    return AuditLine(
        entry.created_at, who, who_href, _what(entry), subject, subject_href, entry.address or ""
    )
