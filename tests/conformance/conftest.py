"""Targets for running the conformance suites in-process against our app, on both databases.

A target is a practice with SCIM enabled (OAuth client credentials), the platform (the
management API, with the practice administrator's API key) and a peer practice with a static
token, so that every area has what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest
from litestar.testing.transport import TestClientTransport

from conformance.runner import RunReport, run_checks
from conformance.target import Peer, Target
from tests.conftest import PUBLIC_URL, PracticeFixture, new_practice

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.settings import Settings


@dataclass(frozen=True)
class Tenants:
    practice: PracticeFixture
    peer: PracticeFixture
    peer_token: str

    def __repr__(self) -> str:
        return f"Tenants(practice={self.practice.id}, peer={self.peer.id})"

    def target(self, **overrides: Any) -> Target:
        return Target(
            scim_url=f"{PUBLIC_URL}{self.practice.scim_path}",
            token_url=f"{PUBLIC_URL}/oauth/token",
            client_id=self.practice.client_id,
            client_secret=self.practice.client_secret,
            platform_url=PUBLIC_URL,
            platform_admin=self.practice.admin_api_key,
            peer=Peer(f"{PUBLIC_URL}{self.peer.scim_path}", self.peer_token),
            **overrides,
        )

    @property
    def secrets(self) -> list[str]:
        p = self.practice
        return [p.client_secret, p.admin_api_key, self.peer_token, self.peer.client_secret]


async def new_tenants(
    client: AsyncTestClient[Any], store: PiccoloStore, settings: Settings
) -> Tenants:
    practice = await new_practice(client, store, settings)
    peer = await new_practice(client, store, settings)
    response = await client.post(f"{peer.management_path}/tokens", headers=peer.admin_headers)
    assert response.status_code == 201, response.text
    return Tenants(practice, peer, response.json()["token"])


@pytest.fixture
async def tenants(client: AsyncTestClient[Any], store: PiccoloStore, settings: Settings) -> Tenants:
    return await new_tenants(client, store, settings)


@pytest.fixture(scope="package")
async def ours(
    client: AsyncTestClient[Any], store: PiccoloStore, settings: Settings
) -> tuple[Tenants, RunReport]:
    """One full run against our unbroken server (per database), shared by the package."""
    tenants = await new_tenants(client, store, settings)
    return tenants, await run(tenants.target(), client)


class _Wrapped:
    """The test client, serving ``app`` (a wrapper around ours) instead of ours."""

    def __init__(self, client: AsyncTestClient[Any], app: Any) -> None:
        self._client = client
        self.app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class _PortalTransport(httpx.AsyncBaseTransport):
    def __init__(self, client: AsyncTestClient[Any], app: Any) -> None:
        self._inner = TestClientTransport(client=cast("Any", _Wrapped(client, app)))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)


@pytest.fixture
def through(client: AsyncTestClient[Any]) -> Callable[[Any], httpx.AsyncClient]:
    """An httpx client for an ASGI wrapper around our app. The wrapper runs in the test
    client's portal, on the event loop that owns the app's database connections."""

    def make(asgi: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=_PortalTransport(client, asgi), base_url=PUBLIC_URL)

    return make


async def run(
    target: Target, client: httpx.AsyncClient, ids: Iterable[str] | None = None
) -> RunReport:
    return await run_checks(target, client, ids=ids)


def failures(report: RunReport) -> dict[str, str]:
    return {r.check.id: r.message for r in report.failed}
