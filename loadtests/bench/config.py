"""What one ``scimlab bench`` run does: sizes, counts and the databases it runs on."""

from __future__ import annotations

from dataclasses import dataclass, field

from loadtests.bench.fleet_rate import FleetLoad

__all__ = ["BenchConfig"]


@dataclass(frozen=True)
class BenchConfig:
    users: int = 10_000
    connections: int = 50
    #: Per target and operation, over all rounds (likewise the time cap).
    requests: int = 20_000
    seconds: float = 10.0
    #: The operations and size stages alternate their targets this many times.
    rounds: int = 3
    sizes: tuple[int, ...] = (1_000, 100_000, 1_000_000)
    size_requests: int = 2_000
    sync_users: int = 10_000
    backends: tuple[str, ...] = ("sqlite", "postgresql")
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    #: Users of the practice walked by cursor and by startIndex (0: no cursor-walk stage).
    cursor_users: int = 100_000
    cursor_page: int = 1_000
    #: Practices held at a fixed rate at once (issue 7); no practices, no fleet stage.
    fleet: FleetLoad = field(default_factory=FleetLoad)
