"""Fixtures for the console and SSO tests: the app over https (so Secure cookies flow), a
fresh practice with a signed-in administrator, and simulated identity providers on loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.services import Services
from server.settings import Settings
from simulators.idp import DIALECTS, SAML_DIALECTS, SimulatedOidcIdp, SimulatedSamlIdp, serve
from tests.conftest import SIGN_IN_UNLIMITED, TEST_SECRET_KEY
from tests.console.helpers import SECURE_URL, ConsolePractice, new_console_practice

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from litestar import Litestar

    from server.ops.front import Front
    from server.persistence.store import PiccoloStore


@pytest.fixture(scope="session")
def console_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_url=SECURE_URL,
        secret_key=TEST_SECRET_KEY,
        **SIGN_IN_UNLIMITED,
    )


@pytest.fixture(scope="session")
def console_app(console_settings: Settings) -> Front:
    """The served application of the console tests (its ``state`` holds the services)."""
    return create_app(console_settings)


@pytest.fixture(scope="session")
async def console_client(console_app: Front) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=console_app, base_url=SECURE_URL) as client:
        client.follow_redirects = False  # a test sees each 303 and its cookies
        yield client


@pytest.fixture
async def web(console_client: AsyncTestClient[Litestar]) -> AsyncIterator[AsyncTestClient[Any]]:
    """The browser: the app's client with an empty cookie jar for each test."""
    console_client.cookies.clear()
    yield console_client
    console_client.cookies.clear()


@pytest.fixture
def services(store: PiccoloStore, console_settings: Settings) -> Services:
    return Services.build(store, console_settings)


@pytest.fixture
async def console_practice(services: Services) -> ConsolePractice:
    return await new_console_practice(services)


@pytest.fixture
def start_idp() -> Iterator[Callable[..., SimulatedOidcIdp]]:
    """``idp("entra", tenant=...)``: a simulated OpenID provider served on loopback."""
    running: list[Any] = []

    def start(dialect: str, *, tenant: str = "contoso") -> SimulatedOidcIdp:
        idp = SimulatedOidcIdp(DIALECTS[dialect], tenant=tenant)
        context = serve(idp)
        context.__enter__()
        running.append(context)
        return idp

    yield start
    for context in running:
        context.__exit__(None, None, None)


@pytest.fixture
def start_saml_idp() -> Iterator[Callable[..., SimulatedSamlIdp]]:
    """``saml_idp("okta", tenant=...)``: a simulated SAML identity provider on loopback."""
    running: list[Any] = []

    def start(dialect: str, *, tenant: str = "contoso") -> SimulatedSamlIdp:
        idp = SimulatedSamlIdp(SAML_DIALECTS[dialect], tenant=tenant)
        context = serve(idp)
        context.__enter__()
        running.append(context)
        return idp

    yield start
    for context in running:
        context.__exit__(None, None, None)
