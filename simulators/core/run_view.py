"""What steps and expectations see of a run in progress. They are typed against this view,
not against the runner's ``Run``, because the runner imports them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from simulators.core.clock import Clock
    from simulators.core.directory import Directory
    from simulators.core.engine import Engine
    from simulators.core.recorder import Recorder
    from simulators.core.scenario import Scenario
    from simulators.core.signin import PlatformSignIn
    from simulators.core.sync import ConnectionReport, SyncEngine

__all__ = ["RunView", "TargetView"]


class TargetView(Protocol):
    @property
    def compare(self) -> frozenset[str]:
        """The attributes the target keeps, so the only ones compared."""


class RunView(Protocol):
    scenario: Scenario
    clock: Clock
    users: int
    domain: str
    directory: Directory
    recorder: Recorder
    sync: SyncEngine
    #: An engine without injected faults, for reading the server's state back.
    verify: Engine
    connections: list[ConnectionReport]
    seeded: list[str]
    #: Ids saved by ``request`` steps (``save_id``).
    refs: dict[str, str]
    platform: PlatformSignIn | None

    @property
    def target(self) -> TargetView:
        """Where the run sends its requests."""
