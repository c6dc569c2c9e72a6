"""Play a scenario against a target: steps in order, then expectations, into a ``RunResult``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from simulators.core import steps
from simulators.core.auth import build_auth
from simulators.core.clock import VirtualClock, parse_duration
from simulators.core.directory import Directory
from simulators.core.engine import Engine
from simulators.core.expectations import ExpectationResult, evaluate, no_server_errors
from simulators.core.faults import Fault, Faults
from simulators.core.mapping import SCIMLAB_KEPT
from simulators.core.recorder import Recorder
from simulators.core.signin import PlatformSignIn
from simulators.core.sync import ConnectionReport, SyncEngine

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from simulators.core.auth import Credentials
    from simulators.core.clock import Clock
    from simulators.core.dialect import Dialect
    from simulators.core.scenario import Scenario, Step

__all__ = ["Rotator", "RunResult", "ScimlabRotator", "Target", "run_scenario"]


class Rotator(Protocol):
    async def rotate(self, credentials: Credentials) -> Credentials:
        """A new secret (or static token) issued by the server; the old one stops working."""


class ScimlabRotator:
    """Rotation through scimlab's management API (regenerate-secret, tokens). Each call is
    shown to ``observer`` (the run's recorder), so transcripts include it."""

    def __init__(self, client: httpx.AsyncClient, management_url: str, headers: dict[str, str]):
        self.client, self.url, self.headers = client, management_url.rstrip("/"), headers
        self.observer: Callable[[httpx.Request, httpx.Response, str], None] | None = None

    async def _post(self, path: str, label: str) -> httpx.Response:
        response = await self.client.post(f"{self.url}{path}", headers=self.headers)
        await response.aread()
        if self.observer is not None:
            self.observer(response.request, response, label)
        response.raise_for_status()
        return response

    async def rotate(self, credentials: Credentials) -> Credentials:
        if credentials.kind == "token":
            response = await self._post("/tokens", "management.token_create")
            return credentials.with_secret(str(response.json()["token"]))
        response = await self._post("/regenerate-secret", "management.regenerate_secret")
        return credentials.with_secret(str(response.json()["client_secret"]))


@dataclass
class Target:
    scim_url: str
    client: httpx.AsyncClient
    credentials: Credentials
    compare: frozenset[str] = SCIMLAB_KEPT
    rotator: Rotator | None = None


@dataclass
class RunResult:
    scenario: Scenario
    dialect: Dialect
    results: list[ExpectationResult]
    recorder: Recorder
    sync: SyncEngine
    elapsed: float
    simulated: float
    error: str | None = None
    connections: list[ConnectionReport] = field(default_factory=list)
    credentials: Credentials | None = None  # the server's latest, after any rotation

    @property
    def passed(self) -> bool:
        return self.error is None and all(r.status != "failed" for r in self.results)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)


class Run:
    def __init__(
        self,
        scenario: Scenario,
        dialect: Dialect,
        target: Target,
        *,
        users: int | None,
        clock: Clock,
        progress: Callable[[int, int], None] | None,
        domain: str = "example.org",
    ) -> None:
        self.domain = domain
        self.scenario, self.target, self.clock, self.progress = scenario, target, clock, progress
        self.users = users if users is not None else scenario.users
        self.directory = Directory()
        self.recorder = Recorder()
        self.faults = Faults()
        self.server_credentials = self.idp_credentials = target.credentials
        for secret in target.credentials.secrets():
            self.recorder.add_secret(secret)
        self.auth = build_auth(target.credentials, clock)
        engine = Engine(
            target.client,
            target.scim_url,
            dialect,
            auth=self.auth,
            clock=clock,
            recorder=self.recorder,
            faults=self.faults,
        )
        self.verify = Engine(
            target.client,
            target.scim_url,
            dialect,
            auth=build_auth(target.credentials, clock),
            clock=clock,
            recorder=self.recorder,
        )
        self.sync = SyncEngine(engine, self.directory)
        self.connections: list[ConnectionReport] = []
        self.seeded: list[str] = []
        self.sso: list[tuple[str, str]] = []
        self.refs: dict[str, str] = {}  # ids saved by ``request`` steps (save_id)
        #: real SSO sign-ins (X-01), through scimlab's management API when it is given
        self.platform: PlatformSignIn | None = None
        if isinstance(target.rotator, ScimlabRotator):
            self.platform = PlatformSignIn(target.client, target.scim_url, target.rotator.headers)

    # secrets -----------------------------------------------------------------------------
    async def _rotate_on_server(self) -> None:
        if self.target.rotator is None:
            raise ValueError("this target has no credential rotator (see --platform-url)")
        if isinstance(self.target.rotator, ScimlabRotator):
            self.target.rotator.observer = self.verify.observe
        self.server_credentials = await self.target.rotator.rotate(self.server_credentials)
        for secret in self.server_credentials.secrets():
            self.recorder.add_secret(secret)
        self.verify.auth.update(self.server_credentials)

    def _tell_idp(self) -> None:
        self.idp_credentials = self.server_credentials
        self.auth.update(self.server_credentials)

    # steps -------------------------------------------------------------------------------
    async def step(self, step: Step) -> None:  # noqa: PLR0912 - a flat dispatch table
        a, now = step.args, self.clock.now()
        if steps.directory_step(
            self.directory, step, now=now, users=self.users, domain=self.domain
        ):
            return
        match step.do:
            case "test_connection":
                self.connections.append(await self.sync.test_connection())
            case "cycle":
                await self.sync.run_cycle(
                    full=bool(a.get("full", False)),
                    on_demand=bool(a.get("on_demand", False)),
                    rotate_after=a.get("rotate_after"),
                    on_rotate=self._rotate_on_server,
                    on_object=self.progress,
                )
            case "schedule":
                await self.sync.run_schedule(parse_duration(a["duration"]))
            case "wait":
                self.clock.advance(parse_duration(a["duration"]))
            case "rotate_credentials":
                await self._rotate_on_server()
                if a.get("tell_idp", True):
                    self._tell_idp()
            case "update_credentials":
                self._tell_idp()
            case "retry_tasks":
                self.sync.retry_tasks()
            case "seed_users" | "seed_user":
                await steps.seed(self, a, many=step.do == "seed_users")
            case "send":
                await steps.send(self, a)
            case "import_users":
                await steps.import_users(self, int(a.get("page_size", 100)))
            case "sso_login":
                await steps.sso_login(self, a)
            case "sso_sign_in":
                await steps.sso_sign_in(self, a)
            case "request":
                await steps.raw_request(self, a)
            case "fault":
                self.faults.add(Fault.from_dict(a, now=now))
            case "clear_faults":
                self.faults.clear()
            case "dialect":
                changed = self.sync.base_dialect.with_changes(**a["set"])
                self.sync.set_dialect(changed)
                self.verify.dialect = changed

    # the run -----------------------------------------------------------------------------
    async def execute(self) -> RunResult:
        started, simulated_start = time.perf_counter(), self.clock.now()
        results: list[ExpectationResult] = []
        error = None
        pending = list(self.scenario.expectations)
        for index, step in enumerate(self.scenario.steps, 1):
            self.recorder.step = step.id or f"{index}:{step.do}"
            try:
                await self.step(step)
            except Exception as failure:
                error = f"step {index} ({step.do}) failed: {type(failure).__name__}: {failure}"
                break
            finally:
                self.recorder.step = None
            if step.id:
                due = [e for e in pending if e.at == step.id]
                pending = [e for e in pending if e.at != step.id]
                results.extend([await evaluate(e, self) for e in due])
        if error is None:
            results.extend([await evaluate(e, self) for e in pending])
        results.append(no_server_errors(self))
        if self.platform is not None:
            await self.platform.close()
        return RunResult(
            self.scenario,
            self.sync.base_dialect,
            results,
            self.recorder,
            self.sync,
            time.perf_counter() - started,
            self.clock.now() - simulated_start,
            error,
            self.connections,
            self.server_credentials,
        )


async def run_scenario(
    scenario: Scenario,
    dialect: Dialect,
    target: Target,
    *,
    users: int | None = None,
    clock: Clock | None = None,
    progress: Callable[[int, int], None] | None = None,
    domain: str = "example.org",
) -> RunResult:
    """Play ``scenario``; generated people get addresses at ``domain`` (keep runs apart)."""
    run = Run(
        scenario,
        dialect,
        target,
        users=users,
        clock=clock or VirtualClock(),
        progress=progress,
        domain=domain,
    )
    return await run.execute()
