"""The lockout's rules, on the sign-in service with a clock of the test's own (both
databases): a lock runs out to the microsecond, a right password gives its attempt back
(even the fifth, whose lock it lifts), and a code is accepted once however many requests
carry it at the same time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pyotp
import pytest

from server.domain.signin import AccountLocked, NewSession, SignInRefused, SignInService

if TYPE_CHECKING:
    from server.services import Services
    from tests.console.helpers import ConsolePractice

#: A whole second: SQLite keeps it as text without a fraction, which must still order right.
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _service(services: Services, clock: Clock) -> SignInService:
    return SignInService(services.store, session_ttl=timedelta(hours=1), clock=clock)


async def _wrong(service: SignInService, practice: ConsolePractice) -> type[Exception]:
    with pytest.raises(SignInRefused) as refused:
        await service.password_step(practice.uuid, "admin", "not-the-password")
    return type(refused.value)


async def test_a_lock_runs_out_to_the_microsecond_then_counting_starts_again(
    services: Services, console_practice: ConsolePractice
) -> None:
    clock = Clock()
    service = _service(services, clock)
    assert [await _wrong(service, console_practice) for _ in range(5)] == [SignInRefused] * 4 + [
        AccountLocked
    ]
    until = START + timedelta(minutes=15)
    clock.now = until - TICK
    with pytest.raises(AccountLocked):
        await service.password_step(console_practice.uuid, "admin", console_practice.admin_password)
    clock.now = until + TICK
    # Five new failures in a row are needed to lock it again.
    assert [await _wrong(service, console_practice) for _ in range(5)] == [SignInRefused] * 4 + [
        AccountLocked
    ]


async def test_a_right_password_gives_its_attempt_back(
    services: Services, console_practice: ConsolePractice
) -> None:
    """The fifth attempt locks as it is counted; the right password lifts that lock again.
    Failures in a row end only with a whole sign-in (the code), so the next wrong one locks."""
    clock = Clock()
    service = _service(services, clock)
    assert [await _wrong(service, console_practice) for _ in range(4)] == [SignInRefused] * 4
    token = await service.password_step(
        console_practice.uuid, "admin", console_practice.admin_password
    )
    assert token
    assert await _wrong(service, console_practice) is AccountLocked


async def test_a_code_is_accepted_once_however_many_carry_it_at_once(
    services: Services, console_practice: ConsolePractice
) -> None:
    service = services.sign_in
    token = await service.password_step(
        console_practice.uuid, "admin", console_practice.admin_password
    )
    secret = (await service.enrollment(token)).secret
    code = pyotp.TOTP(secret).now()
    answers = await asyncio.gather(
        *[service.code_step(token, code) for _ in range(10)], return_exceptions=True
    )
    sessions = [a for a in answers if isinstance(a, NewSession)]
    assert len(sessions) == 1, answers
    assert all(isinstance(a, SignInRefused) for a in answers if a not in sessions), answers
