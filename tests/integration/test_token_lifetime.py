"""Access tokens are short-lived and bound to the secret they were issued under."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from server.auth.service import AuthError, TokenService

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from tests.conftest import PracticeFixture


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_token_expires_after_its_lifetime(
    client: AsyncTestClient[Any], store: PiccoloStore, practice: PracticeFixture
) -> None:
    clock = Clock()
    service = TokenService(store, token_ttl_seconds=60, clock=clock)
    issued = await service.client_credentials(practice.client_id, practice.client_secret)
    assert issued.expires_in == 60
    practice_id = UUID(practice.id)

    clock.now += timedelta(seconds=59)
    assert await service.practice_for_bearer(issued.access_token, practice_id) == practice_id

    clock.now += timedelta(seconds=2)
    with pytest.raises(AuthError) as refused:
        await service.practice_for_bearer(issued.access_token, practice_id)
    assert refused.value.error == "invalid_token"


async def test_token_is_only_good_for_its_own_practice(
    client: AsyncTestClient[Any], store: PiccoloStore, practice: PracticeFixture
) -> None:
    service = TokenService(store, token_ttl_seconds=60)
    issued = await service.client_credentials(practice.client_id, practice.client_secret)
    other = UUID("00000000-0000-4000-8000-000000000001")
    with pytest.raises(AuthError):
        await service.practice_for_bearer(issued.access_token, other)
