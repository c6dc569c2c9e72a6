"""Signing in to the console with a password and an authenticator code, and staff sessions.

A password alone never opens a session: it opens a short sign-in flow that a TOTP code
completes (enrolling the authenticator the first time). Five failures in a row, of either
factor, lock the account for fifteen minutes. Each attempt is counted as failed in the
database before its password or code is checked (and uncounted if it succeeds), so however
many arrive at once, in however many processes, at most five are checked before the lock.
Attempts are also rate limited per source address and per account (``SignInLimiter``). The
browser holds random tokens; the database holds their SHA-256 hashes only.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Protocol

from server.domain.clock import utcnow
from server.domain.errors import DomainError
from server.domain.mfa import MfaState, accepted_step, new_totp_secret, provisioning_uri
from server.domain.practices import AuditEntry
from server.domain.records import FlowKind, SignInFlow
from server.domain.text import storable, unstorable
from server.security import hash_password, hash_secret, verify_password

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from server.domain.mfa import Attempt
    from server.domain.ports import Store
    from server.domain.staff import StaffUser

__all__ = [
    "AccountLocked",
    "FlowKind",
    "NewSession",
    "SignInFlow",
    "SignInLimiter",
    "SignInRefused",
    "SignInService",
    "TooManyAttempts",
    "console_audit_entry",
    "new_token",
]

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
CODE_FLOW_TTL = timedelta(minutes=5)
WRONG = (
    "The username or password is not correct. After five wrong attempts in a row an account "
    "is locked for 15 minutes."
)


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    expires_at: datetime
    user: StaffUser


@dataclass(frozen=True, slots=True)
class Enrollment:
    secret: str
    uri: str


class SignInRefused(DomainError):
    """A sign-in attempt failed; ``detail`` is safe to show to the person signing in."""


class AccountLocked(SignInRefused):
    def __init__(self, until: datetime) -> None:
        super().__init__(
            "Too many failed sign-in attempts: this account is locked until "
            f"{until:%H:%M} UTC. Try again after that, or ask another practice administrator."
        )
        self.until = until


class TooManyAttempts(SignInRefused):
    """Over a sign-in rate limit (per source address or per account)."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            "Too many sign-in attempts. Wait a moment and try again "
            f"(in {self.retry_after} seconds)."
        )


class SignInLimiter(Protocol):
    """Budgets of sign-in attempts per source address and per account (``server.ops``)."""

    async def attempt(self, practice_id: UUID, address: str, account: str) -> float:
        """Take one attempt from both budgets: 0.0 if it may go ahead, else the seconds to
        wait (nothing taken)."""
        ...


def new_token() -> str:
    return secrets.token_urlsafe(32)


def console_audit_entry(
    practice_id: UUID, user_name: str, action: str, detail: str, at: datetime
) -> AuditEntry:
    """What the console records of a sign-in or reset step, under the name as typed."""
    return AuditEntry(practice_id, f"console:{storable(user_name)[:64]}", action, detail, at)


@cache
def _decoy_hash() -> str:
    """Verified against when the account does not exist, so timing reveals nothing."""
    return hash_password(secrets.token_urlsafe(16))


class SignInService:
    def __init__(
        self,
        store: Store,
        *,
        session_ttl: timedelta,
        issuer_label: str = "scimlab",
        limiter: SignInLimiter | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._limiter = limiter
        self._ttl = session_ttl
        self._issuer_label = issuer_label
        self._now = clock

    async def password_step(
        self, practice_id: UUID, user_name: str, password: str, *, address: str = "unknown"
    ) -> str:
        """Check the password; returns the token of the flow that waits for the code."""
        name = user_name.strip()
        # A name no column can hold names no account: the wrong-credentials answer, as for any.
        found = (
            None
            if unstorable(name)
            else await self._store.credentials.find_by_user_name(practice_id, name)
        )
        user, password_hash = found if found else (None, None)
        account = f"staff:{user.id}" if user else f"name:{name.casefold()}"
        await self._limit(practice_id, address, account)
        if user is None or password_hash is None:
            verify_password(_decoy_hash(), password)
            if user is not None and user.scim_provisioned:
                raise SignInRefused(
                    "Your account is managed by your organisation: use "
                    "“Sign in with your organisation” instead of a password."
                )
            await self._audit(practice_id, user_name, "sign_in.failed", "reason=unknown_user")
            raise SignInRefused(WRONG)
        attempt = await self._claim(user)
        if not verify_password(password_hash, password):
            raise await self._failure(user, attempt, "password")
        await self._store.mfa.release_attempt(user.practice_id, user.id, attempt, self._now())
        if not user.profile.active or user.scim_deleted:
            await self._audit(practice_id, user_name, "sign_in.failed", "reason=deactivated")
            raise SignInRefused(WRONG)
        token = new_token()
        now = self._now()
        flow = SignInFlow(FlowKind.CODE, practice_id, user.id, None, None, now, now + CODE_FLOW_TTL)
        await self._store.flows.add(flow, hash_secret(token))
        return token

    async def code_flow(self, token: str) -> tuple[StaffUser, MfaState]:
        """The account a pending code flow belongs to; refused when expired or unknown."""
        flow = await self._store.flows.get(hash_secret(token), FlowKind.CODE, self._now())
        user = None
        if flow is not None and flow.staff_id is not None:
            user = await self._store.staff.get(flow.practice_id, flow.staff_id)
        if user is None:
            raise SignInRefused("This sign-in has expired. Enter your password again.")
        return user, await self._state(user)

    async def enrollment(self, token: str) -> Enrollment:
        """The authenticator secret to enroll (made once, kept until confirmed by a code)."""
        user, state = await self.code_flow(token)
        if state.totp_confirmed:
            raise SignInRefused("An authenticator is already enrolled for this account.")
        secret = state.totp_secret
        if secret is None:
            # Pages shown at once all show the secret that is kept: the first one stored.
            secret = await self._store.mfa.enroll(
                user.practice_id, user.id, new_totp_secret(), self._now()
            )
        practice = await self._store.practices.get(user.practice_id)
        account = f"{user.profile.user_name} ({practice.name if practice else 'practice'})"
        uri = provisioning_uri(secret, account=account, issuer=self._issuer_label)
        return Enrollment(secret, uri)

    async def code_step(self, token: str, code: str, *, address: str = "unknown") -> NewSession:
        """Check the authenticator code; on success the flow ends and a session starts."""
        user, state = await self.code_flow(token)
        await self._limit(user.practice_id, address, f"staff:{user.id}")
        attempt = await self._claim(user)
        now = self._now()
        step = None
        if state.totp_secret is not None:
            step = accepted_step(state.totp_secret, code, now=now, last_step=state.last_step)
        if step is not None:
            async with self._store.transaction():
                # Only if no other request accepted this step (or a later one) meanwhile.
                if await self._store.mfa.confirm_code(
                    user.practice_id, user.id, step, attempt, now
                ):
                    await self._store.flows.remove(hash_secret(token))
                    return await self.open_session(user, method="password+totp")
        raise await self._failure(user, attempt, "code")

    async def open_session(self, user: StaffUser, *, method: str) -> NewSession:
        token = new_token()
        expires = self._now() + self._ttl
        await self._store.sessions.add(user.practice_id, user.id, hash_secret(token), expires)
        await self._audit(
            user.practice_id, user.profile.user_name, "sign_in.succeeded", f"method={method}"
        )
        return NewSession(token, expires, user)

    async def session_user(self, token: str) -> StaffUser | None:
        """The active account a session cookie belongs to, or None."""
        found = await self._store.sessions.find_active(hash_secret(token), self._now())
        if found is None:
            return None
        return await self._store.staff.get(*found)

    async def sign_out(self, token: str) -> None:
        await self._store.flows.end_session(hash_secret(token))

    async def _state(self, user: StaffUser) -> MfaState:
        state = await self._store.mfa.get(user.practice_id, user.id)
        return state or MfaState(user.practice_id, user.id, None, False, None, 0, None)

    async def _limit(self, practice_id: UUID, address: str, account: str) -> None:
        """Refuse an attempt over the address's or the account's rate limit. Not audited:
        every refusal would be a write, which is what the limit is there to spare."""
        if self._limiter is not None:
            wait = await self._limiter.attempt(practice_id, address, account)
            if wait > 0:
                raise TooManyAttempts(wait)

    async def _claim(self, user: StaffUser) -> Attempt:
        """Count the attempt as failed before anything is checked; refused while locked."""
        for _ in range(2):
            now = self._now()
            attempt = await self._store.mfa.claim_attempt(
                user.practice_id, user.id, now, limit=MAX_FAILURES, lockout=LOCKOUT
            )
            if attempt is not None:
                return attempt
            until = (await self._state(user)).locked_until
            if until is not None and until > now:
                raise AccountLocked(until)
            # The lock ran out between the two statements: claim again.
        raise AccountLocked(now)

    async def _failure(self, user: StaffUser, attempt: Attempt, factor: str) -> SignInRefused:
        """The attempt, counted already, failed: audit it; the refusal to raise (the fifth in
        a row locked the account)."""
        name = user.profile.user_name
        if attempt.locks_until is not None:
            until = attempt.locks_until
            await self._audit(user.practice_id, name, "sign_in.locked", f"until={until:%H:%M}Z")
            return AccountLocked(until)
        await self._audit(user.practice_id, name, "sign_in.failed", f"reason={factor}")
        if factor == "code":
            # The password was right: saying how close the lock is tells nothing new.
            last = attempt.number == MAX_FAILURES - 1
            return SignInRefused(
                "That code is not correct, or was already used. Try the next one."
                + (" This is your last try: one more wrong code locks the account for 15 "
                   "minutes." if last else "")
            )  # fmt: skip
        return SignInRefused(WRONG)

    async def _audit(self, practice_id: UUID, user_name: str, action: str, detail: str) -> None:
        entry = console_audit_entry(practice_id, user_name, action, detail, self._now())
        await self._store.audit.record(entry)
