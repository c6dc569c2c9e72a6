"""Forgot password, without the hole: an account the identity provider manages never gets a
platform password from it.

Every request gets the same answer on the page, so the page never tells which usernames the
identity provider manages. A SCIM-provisioned account (SSO-linked or waiting for its
practice's SSO) is told by email (here, the outbox) to sign in through its organisation, and
the attempt is audited; nothing is created or reset. Accounts made in the platform keep the
usual reset: a one-time link by email.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import quote

from server.domain.clock import utcnow
from server.domain.errors import InvalidValue
from server.domain.records import OutboxMessage
from server.domain.signin import (
    FlowKind,
    SignInFlow,
    SignInRefused,
    console_audit_entry,
    new_token,
)
from server.domain.text import unstorable
from server.security import hash_password, hash_secret

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from server.domain.ports import Store
    from server.domain.staff import StaffUser

__all__ = ["OutboxMessage", "PasswordResetService", "ResetOutcome"]

RESET_TTL = timedelta(minutes=30)
MIN_PASSWORD = 12


class ResetOutcome(StrEnum):
    #: A link went out, or no such account exists: the page says the same either way.
    LINK_SENT = "link_sent"
    #: The account signs in through the practice's identity provider; nothing was reset, and
    #: the person was told by email (the page says the same as for ``LINK_SENT``).
    USE_ORGANISATION = "use_organisation"


class PasswordResetService:
    def __init__(
        self, store: Store, *, public_url: str, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._store = store
        self._public_url = public_url
        self._now = clock

    async def request(self, practice_id: UUID, user_name: str) -> ResetOutcome:
        user_name = user_name.strip()[:256]
        found = (
            None
            if unstorable(user_name)
            else await self._store.credentials.find_by_user_name(practice_id, user_name)
        )
        user = found[0] if found else None
        if user is not None and user.scim_provisioned:
            reason = "sso_linked" if user.sso_subject else "scim_managed"
            async with self._store.transaction():
                if user.profile.email and user.profile.active and not user.scim_deleted:
                    await self._store.outbox.send(await self._use_organisation(user))
                await self._audit(
                    practice_id, user_name, "password_reset.refused", f"reason={reason}"
                )
            return ResetOutcome.USE_ORGANISATION
        if user is None or not user.profile.active or user.scim_deleted:
            await self._audit(practice_id, user_name, "password_reset.ignored", "reason=no_account")
            return ResetOutcome.LINK_SENT
        if not user.profile.email:
            await self._audit(practice_id, user_name, "password_reset.ignored", "reason=no_email")
            return ResetOutcome.LINK_SENT
        token = new_token()
        now = self._now()
        flow = SignInFlow(FlowKind.RESET, practice_id, user.id, None, None, now, now + RESET_TTL)
        practice = await self._store.practices.get(practice_id)
        link = f"{self._public_url}/console/{practice_id}/reset-password?token={quote(token)}"
        message = OutboxMessage(
            practice_id=practice_id,
            recipient=user.profile.email,
            subject="Reset your password",
            body=(
                f"Someone asked to reset the password of {user.profile.user_name} at "
                f"{practice.name if practice else 'your practice'}.\n\n"
                f"Choose a new password within 30 minutes at:\n{link}\n\n"
                "If this was not you, ignore this message; your password stays as it is."
            ),
            created_at=now,
        )
        async with self._store.transaction():
            await self._store.flows.add(flow, hash_secret(token))
            await self._store.outbox.send(message)
            await self._audit(practice_id, user_name, "password_reset.sent", "link emailed")
        return ResetOutcome.LINK_SENT

    async def _use_organisation(self, user: StaffUser) -> OutboxMessage:
        """The email that tells a provisioned person how they sign in: no link, no password."""
        practice = await self._store.practices.get(user.practice_id)
        name = practice.name if practice else "your practice"
        sign_in = f"{self._public_url}/console/{user.practice_id}/sign-in"
        return OutboxMessage(
            practice_id=user.practice_id,
            recipient=str(user.profile.email),
            subject="How you sign in",
            body=(
                f"Someone asked to reset the password of {user.profile.user_name} at {name}.\n\n"
                "Your account is managed by your organisation, so it has no password here. "
                "Sign in with your organisation's account instead, from the sign-in page:\n"
                f"{sign_in}\n\n"
                "If that does not work, ask your organisation's IT support. If you did not ask "
                "for this, you can ignore this message."
            ),
            created_at=self._now(),
        )

    async def account_for(self, practice_id: UUID, token: str) -> StaffUser:
        """The account a reset link is for, while the link is valid."""
        flow = await self._store.flows.get(hash_secret(token), FlowKind.RESET, self._now())
        user = None
        if flow is not None and flow.practice_id == practice_id and flow.staff_id is not None:
            user = await self._store.staff.get(practice_id, flow.staff_id)
        if user is None or user.scim_provisioned or not user.profile.active or user.scim_deleted:
            raise SignInRefused("This reset link has expired or was already used.")
        return user

    async def complete(self, practice_id: UUID, token: str, password: str) -> StaffUser:
        """Set the new password, end the link and every session of the account."""
        if not MIN_PASSWORD <= len(password) <= 256:
            raise InvalidValue(
                f"Choose a password of {MIN_PASSWORD} to 256 characters.", field="password"
            )
        password_hash = hash_password(password)  # slow on purpose: outside the transaction
        async with self._store.transaction():
            user = await self.account_for(practice_id, token)
            await self._store.credentials.set_password(practice_id, user.id, password_hash)
            await self._store.flows.remove(hash_secret(token))
            await self._store.sessions.revoke_for_user(practice_id, user.id)
            await self._audit(
                practice_id, user.profile.user_name, "password_reset.completed", "password set"
            )
        return user

    async def _audit(self, practice_id: UUID, user_name: str, action: str, detail: str) -> None:
        entry = console_audit_entry(practice_id, user_name, action, detail, self._now())
        await self._store.audit.record(entry)
