"""Build a sync engine whose SCIM target is a respx-mocked ``FakeScim``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from simulators.core.auth import Credentials, build_auth
from simulators.core.clock import VirtualClock
from simulators.core.directory import Directory
from simulators.core.engine import Engine
from simulators.core.recorder import Recorder
from simulators.core.sync import SyncEngine
from tests.simulators.fake_scim import BASE, FakeScim

if TYPE_CHECKING:
    import respx

    from simulators.core.dialect import Dialect


@dataclass
class Harness:
    directory: Directory
    sync: SyncEngine
    server: FakeScim
    clock: VirtualClock
    recorder: Recorder
    client: httpx.AsyncClient


def harness(
    router: respx.MockRouter,
    dialect: Dialect,
    *,
    credentials: Credentials | None = None,
    clock: VirtualClock | None = None,
) -> Harness:
    server = FakeScim()
    router.route(url__startswith=BASE).mock(side_effect=server.handle)
    clock = clock or VirtualClock()
    recorder = Recorder()
    client = httpx.AsyncClient()
    auth = build_auth(credentials or Credentials("token", token="static-token-value"), clock)
    engine = Engine(client, BASE, dialect, auth=auth, clock=clock, recorder=recorder)
    directory = Directory()
    return Harness(directory, SyncEngine(engine, directory), server, clock, recorder, client)
