"""Time-based one-time passwords (RFC 6238) for accounts that sign in with a password.

A code is accepted one step either side of now (RFC 6238 §5.2 allows for clock drift), and
only for a time step later than the last one accepted, so a code, or an older one, can never
be used twice (§5.2: "the verifier MUST NOT accept the second attempt of the OTP").
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyotp

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

__all__ = [
    "STEP_SECONDS",
    "Attempt",
    "MfaState",
    "accepted_step",
    "new_totp_secret",
    "provisioning_uri",
]

STEP_SECONDS = 30
WINDOW = 1


@dataclass(frozen=True, slots=True)
class MfaState:
    """An account's authenticator enrollment and its failed-attempt counter."""

    practice_id: UUID
    staff_id: UUID
    totp_secret: str | None
    totp_confirmed: bool
    last_step: int | None
    failed_attempts: int
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """A sign-in attempt counted before its password or code is checked: its place among the
    failures in a row (``number``), and the lock it set if it is the last one allowed
    (``locks_until``; lifted again if the attempt succeeds)."""

    number: int
    locks_until: datetime | None


def new_totp_secret() -> str:
    """160 random bits, base32 (RFC 4226 §4 recommends at least 128, ideally 160)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://totp/…`` URI authenticator apps read from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def accepted_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to, if it is valid now and newer than ``last_step``."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - WINDOW, current + WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
