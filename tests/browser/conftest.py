"""Real-browser fixtures: ``scimlab serve`` (granian) on a loopback socket with a fresh
database, Debian's Chromium driven by Playwright (never a downloaded browser), simulated
identity providers on loopback, and a screenshot folder (``tests/browser/artifacts``)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.async_api import async_playwright

from server.persistence.store import open_store
from server.services import Services
from server.settings import Settings
from simulators.idp import DIALECTS, SAML_DIALECTS, SimulatedOidcIdp, SimulatedSamlIdp, serve

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from playwright.async_api import Browser, BrowserContext, Page


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
SCIMLAB = str(Path(sys.executable).parent / "scimlab")


@dataclass
class LiveServer:
    """The app over a real socket, and services on the same database for test set-up."""

    base_url: str
    services: Services
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _start(database_url: str, tmp: Path) -> AsyncIterator[LiveServer]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SCIMLAB_DATABASE_URL": database_url,
        "SCIMLAB_PUBLIC_URL": base,
        "SCIMLAB_RECORD_DIR": str(tmp / f"traces-{port}"),  # recordings started in a test
    }
    log_path = tmp / f"serve-{port}.log"
    log = log_path.open("w")
    process = await asyncio.create_subprocess_exec(
        SCIMLAB, "serve", "--port", str(port), env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as http:
            while True:
                try:
                    if (await http.get(f"{base}/healthz", timeout=1)).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.returncode is not None or time.monotonic() > deadline:
                    pytest.fail(f"scimlab serve did not start:\n{log_path.read_text()}")
                await asyncio.sleep(0.1)
        store = await open_store(database_url, migrate=False)
        try:
            settings = Settings(database_url=database_url, public_url=base)
            yield LiveServer(base, Services.build(store, settings), log_path)
        finally:
            await store.close()
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=15)
        log.close()


@pytest.fixture(scope="session")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    """The server on a fresh SQLite database."""
    tmp = tmp_path_factory.mktemp("browser")
    async for server in _start(f"sqlite:///{tmp / 'console.db'}", tmp):
        yield server


@pytest.fixture(scope="session")
async def live_postgres(
    postgres_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    """The server on this run's PostgreSQL database."""
    async for server in _start(postgres_database, tmp_path_factory.mktemp("browser-pg")):
        yield server


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    created = await browser.new_context(
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    created.set_default_timeout(10_000)
    yield created
    await created.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


@pytest.fixture
def start_idp() -> Iterator[Callable[..., SimulatedOidcIdp]]:
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
