"""Shared pieces for the simulator tests: targets on our server, in-process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import respx

from simulators.core.auth import Credentials
from simulators.core.runner import ScimlabRotator, Target

if TYPE_CHECKING:
    from collections.abc import Iterator

    from litestar.testing import AsyncTestClient

    from tests.conftest import PracticeFixture

BASE = "http://scimlab.test"


async def static_token(client: AsyncTestClient[Any], practice: PracticeFixture) -> str:
    response = await client.post(
        f"{practice.management_path}/tokens", headers=practice.admin_headers
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["token"])


async def credentials_for(
    kind: str, client: AsyncTestClient[Any], practice: PracticeFixture
) -> Credentials:
    if kind == "oauth":
        return Credentials(
            "oauth",
            token_url=f"{BASE}/oauth/token",
            client_id=practice.client_id,
            client_secret=practice.client_secret,
        )
    if kind == "oauth-basic":
        return Credentials(
            "oauth",
            token_url=f"{BASE}/oauth/token",
            client_id=practice.client_id,
            client_secret=practice.client_secret,
            client_auth="client_secret_basic",
        )
    if kind == "basic":
        return Credentials(
            "basic", client_id=practice.client_id, client_secret=practice.client_secret
        )
    return Credentials("token", token=await static_token(client, practice))


async def scimlab_target(
    kind: str, client: AsyncTestClient[Any], practice: PracticeFixture
) -> Target:
    """Our server in-process, as an IdP would be configured against it."""
    return Target(
        scim_url=f"{BASE}{practice.scim_path}",
        client=client,
        credentials=await credentials_for(kind, client, practice),
        rotator=ScimlabRotator(client, f"{BASE}{practice.management_path}", practice.admin_headers),
    )


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """respx in charge of every request; nothing leaves the process."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mocked:
        yield mocked
