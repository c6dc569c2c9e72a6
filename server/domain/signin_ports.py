"""The repositories of signing in: passwords and TOTP, sign-in flows, and the practice's
single sign-on (OpenID Connect and SAML). Implemented in ``server.persistence``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime, timedelta
    from uuid import UUID

    from server.domain.mfa import Attempt, MfaState
    from server.domain.records import FlowKind, SignInFlow, SsoConfig
    from server.domain.staff import StaffUser

__all__ = [
    "CredentialRepository",
    "FlowRepository",
    "MfaRepository",
    "SamlRepository",
    "SsoConfigRepository",
]


class SsoConfigRepository(Protocol):
    async def get(self, practice_id: UUID) -> SsoConfig | None: ...
    async def save(self, config: SsoConfig) -> None: ...
    async def delete(self, practice_id: UUID) -> bool:
        """Remove the practice's configuration; False when it had none."""
        ...


class SamlRepository(Protocol):
    """SAML sign-in state: each practice's SP key pair and the assertion ids it used."""

    async def sp_key(self, practice_id: UUID) -> tuple[str, str] | None:
        """(private key PEM, certificate PEM), or None before the first use."""
        ...

    async def add_sp_key(
        self, practice_id: UUID, private_key: str, certificate: str, now: datetime
    ) -> bool: ...

    async def use_assertion(
        self, practice_id: UUID, assertion_id: str, expires_at: datetime, now: datetime
    ) -> bool:
        """False when the assertion id was used before (a replay)."""
        ...


class CredentialRepository(Protocol):
    """How accounts sign in: passwords and SSO links (never part of a SCIM resource)."""

    async def find_by_user_name(
        self, practice_id: UUID, user_name: str
    ) -> tuple[StaffUser, str | None] | None:
        """The account (any state) whose userName matches case-insensitively, with its
        password hash."""
        ...

    async def find_by_sso_link(
        self, practice_id: UUID, issuer: str, subject: str
    ) -> StaffUser | None:
        """The account linked to the identity; an active one first, then any other."""
        ...

    async def set_sso_link(
        self, practice_id: UUID, staff_id: UUID, issuer: str | None, subject: str | None
    ) -> None: ...

    async def set_password(self, practice_id: UUID, staff_id: UUID, password_hash: str) -> None: ...

    async def recently_provisioned(self, practice_id: UUID, *, limit: int) -> list[StaffUser]:
        """SCIM-provisioned accounts, most recently changed first."""
        ...


class MfaRepository(Protocol):
    """An account's authenticator and its failures in a row. Every change is one atomic
    statement on the account's row, so concurrent sign-ins (in any number of processes)
    never read, modify and write the counter."""

    async def get(self, practice_id: UUID, staff_id: UUID) -> MfaState | None: ...

    async def enroll(self, practice_id: UUID, staff_id: UUID, secret: str, now: datetime) -> str:
        """Keep ``secret`` unless a secret is kept already; returns the one kept."""
        ...

    async def claim_attempt(
        self, practice_id: UUID, staff_id: UUID, now: datetime, *, limit: int, lockout: timedelta
    ) -> Attempt | None:
        """Count an attempt as failed before it is checked. The ``limit``-th in a row also
        locks the account for ``lockout``; a lock that has run out starts the count again.
        None, counting nothing, while the account is locked."""
        ...

    async def release_attempt(
        self, practice_id: UUID, staff_id: UUID, attempt: Attempt, now: datetime
    ) -> None:
        """A claimed attempt succeeded: uncount it, and lift the lock it set."""
        ...

    async def confirm_code(
        self, practice_id: UUID, staff_id: UUID, step: int, attempt: Attempt, now: datetime
    ) -> bool:
        """Accept the code of time step ``step`` (``attempt`` claimed it): only if no later
        or equal step was accepted and no lock but the attempt's own holds. Confirms the
        enrolment and clears the failures and the lock."""
        ...


class FlowRepository(Protocol):
    """Sign-in flows under way, found by the hash of the browser's token."""

    async def add(self, flow: SignInFlow, token_hash: str) -> None: ...

    async def get(self, token_hash: str, kind: FlowKind, now: datetime) -> SignInFlow | None:
        """The unexpired flow of that kind, or None."""
        ...

    async def remove(self, token_hash: str) -> bool:
        """End the flow; False when it was already gone (a second use)."""
        ...

    async def end_session(self, token_hash: str) -> None:
        """Sign one session out (``SessionRepository`` revokes them per account)."""
        ...
