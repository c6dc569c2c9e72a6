"""Other processes opening the SQLite database while ``scimlab serve`` takes writes: the
``scimlab`` CLI's lifecycle commands, and the ``sqlite3`` shell reading, backing up,
vacuuming and checkpointing. The server stays up, every request is answered (503 only while
SQLite holds its lock), no read is stale and the database stays sound.

Also: while the server runs, each of its processes that opened the database holds SQLite's
shared lock on the ``-shm`` file, which is what tells another process that it is not alone
(and so must not rebuild the wal-index under a live mapping)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.reliability.support import (
    PATCH_SCHEMA,
    SCIMLAB,
    UNLIMITED_ENV,
    Server,
    bearer,
    enable_practice,
    query,
    sized,
    user_body,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.reliability

SECONDS = sized(60, 120)
CLIENTS = 6
#: Requests a client makes at most, so the load is bounded in count as well as in time.
MAX_REQUESTS = 20_000
#: The byte of the ``-shm`` file on which every connection of SQLite's unix VFS keeps a shared
#: lock while it has the wal-index open ("DMS", https://www.sqlite.org/walformat.html §2.3.2).
SHM_DMS_BYTE = 128


def _sqlite3() -> str:
    found = shutil.which("sqlite3")
    assert found, "the sqlite3 shell (Debian package sqlite3) is needed; .ci/run installs it"
    return found


def _descendants(pid: int) -> set[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        todo += children.get(current, [])
    return found


def _shm_read_locks(shm: Path) -> set[int]:
    """The processes holding a POSIX read lock on the DMS byte of ``shm`` (/proc/locks)."""
    inode = os.stat(shm).st_ino
    holders = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields:  # a waiter, not a holder
            continue
        kind, mode, pid, device_inode, start, end = fields[1], fields[3], *fields[4:8]
        if kind != "POSIX" or mode != "READ" or int(device_inode.rsplit(":", 1)[1]) != inode:
            continue
        if int(start) <= SHM_DMS_BYTE <= (int(end) if end != "EOF" else SHM_DMS_BYTE):
            holders.add(int(pid))
    return holders


def _database_processes(server: Server) -> set[int]:
    """The server's processes that have the database open."""
    assert server.process is not None
    opened = set()
    for pid in _descendants(server.process.pid):
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        if any(link.endswith(".db") for link in links):
            opened.add(pid)
    return opened


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, tuple[Server, Path]]]:
    """A server with one worker and one with two, each on a database of its own, shared by
    the tests of this module (each starts in seconds, but the CLI that enables its practice
    and the server's start-up are slow on a loaded machine)."""
    started: dict[int, tuple[Server, Path]] = {}
    try:
        for workers in (1, 2):
            folder = tmp_path_factory.mktemp(f"outside-{workers}")
            database = folder / f"{uuid.uuid4().hex[:8]}.db"
            server = Server(
                f"sqlite:///{database}", folder / "serve.log", workers=workers,
                extra_env=UNLIMITED_ENV,
            )  # fmt: skip
            server.credentials = enable_practice(server.env)  # type: ignore[attr-defined]
            started[workers] = (server.start(), database)
        yield started
    finally:
        for server, _ in started.values():
            server.stop()


class Load:
    """Clients that each create a user, then read it back and PATCH it in turn, checking that
    every read sees the client's own last acknowledged write."""

    def __init__(self, scim_url: str, headers: dict[str, str]) -> None:
        self.scim_url = scim_url
        self.headers = headers
        self.statuses: dict[int, int] = {}
        self.failures: list[str] = []
        self.stop = asyncio.Event()

    def _count(self, response: httpx.Response) -> bool:
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        if response.status_code == 503:
            return False
        if response.status_code >= 300:
            self.failures.append(
                f"{response.request.method} {response.status_code} {response.text}"
            )
        return True

    async def client(self, http: httpx.AsyncClient, number: int) -> None:
        user_id: str | None = None
        written = "0"
        for step in range(MAX_REQUESTS):
            if self.stop.is_set():
                return
            try:
                if user_id is None:
                    body = user_body(
                        f"load{number}-{uuid.uuid4().hex[:6]}@clinic.example",
                        name={"givenName": written, "familyName": "Load"},
                    )
                    response = await http.post(
                        f"{self.scim_url}/Users", json=body, headers=self.headers
                    )
                    if self._count(response) and response.status_code == 201:
                        user_id = response.json()["id"]
                elif step % 2:
                    response = await http.get(
                        f"{self.scim_url}/Users/{user_id}", headers=self.headers
                    )
                    if self._count(response) and response.status_code == 200:
                        seen = response.json()["name"]["givenName"]
                        if seen != written:
                            self.failures.append(f"stale read of {user_id}: {seen} after {written}")
                else:
                    value = str(step)
                    patch = {
                        "schemas": [PATCH_SCHEMA],
                        "Operations": [{"op": "replace", "path": "name.givenName", "value": value}],
                    }
                    response = await http.patch(
                        f"{self.scim_url}/Users/{user_id}", json=patch, headers=self.headers
                    )
                    if self._count(response) and response.status_code == 200:
                        written = value
            except httpx.TransportError as error:
                self.failures.append(f"transport error: {error!r}")
                return


def _run_in_turn(
    server: Server, commands: list[list[str]], seconds: float, ran: dict[str, int]
) -> None:
    """Run ``commands`` one after another, round and round, until ``seconds`` have passed or
    the server died; count each in ``ran``."""
    deadline = time.monotonic() + seconds
    for turn in range(100_000):
        if time.monotonic() >= deadline:
            return
        command = commands[turn % len(commands)]
        subprocess.run(command, env=server.env, capture_output=True, timeout=60, check=False)
        label = " ".join(command[1:3]) if command[0] == SCIMLAB else command[-1].split()[0]
        ran[label] = ran.get(label, 0) + 1
        assert server.process is not None
        if server.process.poll() is not None:
            return


async def _disturb(server: Server, database: Path, seconds: float) -> dict[str, int]:
    """Another practice's SCIM lifecycle through the CLI, and beside it the sqlite3 shell
    reading, backing up, checkpointing and vacuuming, until ``seconds`` have passed. Returns
    how often each command ran."""
    other = enable_practice(server.env)["practice_id"]
    shell = [_sqlite3(), "-cmd", ".timeout 2000", str(database)]
    lifecycle = [
        [SCIMLAB, "scim", "regenerate-secret", "--practice", other, "--json"],
        [SCIMLAB, "scim", "disable", "--practice", other, "--confirm", "DISABLE"],
        [SCIMLAB, "scim", "enable", "--practice", other],
        [SCIMLAB, "scim", "delete", "--practice", other, "--confirm", "DELETE"],
        [SCIMLAB, "scim", "enable", "--practice", other],
    ]
    maintenance = [
        [*shell, "SELECT count(*) FROM practice"],
        [*shell, f".backup {database.parent / 'backup.db'}"],
        [*shell, "SELECT count(*) FROM staff_user"],
        [*shell, "PRAGMA wal_checkpoint(TRUNCATE)"],
        [*shell, "SELECT count(*) FROM access_token"],
        [*shell, "VACUUM"],
    ]
    ran: dict[str, int] = {}
    await asyncio.gather(
        asyncio.to_thread(_run_in_turn, server, lifecycle, seconds, ran),
        asyncio.to_thread(_run_in_turn, server, maintenance, seconds, ran),
    )
    return ran


@dataclass
class Outcome:
    """What one server went through: the load's answers, the outside commands that ran, and
    whether it was alive and ready afterwards."""

    load: Load
    ran: dict[str, int]
    alive: bool
    ready: bool


async def _load_and_disturb(server: Server, database: Path) -> Outcome:
    credentials = server.credentials  # type: ignore[attr-defined]
    async with httpx.AsyncClient(timeout=30) as http:
        token = await bearer(http, credentials["token_endpoint_url"], credentials)
        load = Load(credentials["scim_endpoint_url"], {"Authorization": f"Bearer {token}"})
        clients = [asyncio.create_task(load.client(http, n)) for n in range(CLIENTS)]
        try:
            ran = await _disturb(server, database, SECONDS)
        finally:
            load.stop.set()
            await asyncio.gather(*clients)
        assert server.process is not None
        alive = server.process.poll() is None
        ready = alive and (await http.get(f"{server.base}/readyz")).status_code == 200
    return Outcome(load, ran, alive, ready)


@pytest.mark.parametrize("workers", [1, 2], ids=["one-worker", "two-workers"])
async def test_outside_processes_never_crash_the_server(
    servers: dict[int, tuple[Server, Path]], workers: int
) -> None:
    server, database = servers[workers]
    outcome = await _load_and_disturb(server, database)
    load, ran = outcome.load, outcome.ran
    log = "\n".join(server.log_lines()[-12:])
    assert outcome.alive, f"the server died: {ran}\n{log}"
    assert outcome.ready, log
    assert "Fatal Python error" not in log
    assert not load.failures, load.failures[:5]
    assert sum(load.statuses.values()) > 100, load.statuses
    assert set(load.statuses) <= {200, 201, 503}, load.statuses
    assert await query(f"sqlite:///{database}", "PRAGMA integrity_check") == [("ok",)]
    print(f"\n{server.workers} worker(s), {SECONDS} s: requests {load.statuses}, outside {ran}")


@pytest.mark.parametrize("workers", [1, 2], ids=["one-worker", "two-workers"])
async def test_the_server_holds_sqlites_shared_lock_on_the_shm_file(
    servers: dict[int, tuple[Server, Path]], workers: int
) -> None:
    server, database = servers[workers]
    credentials = server.credentials  # type: ignore[attr-defined]
    async with httpx.AsyncClient(timeout=30) as http:
        token = await bearer(http, credentials["token_endpoint_url"], credentials)
        # A new connection for each request, so that every worker takes some.
        headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
        scim = credentials["scim_endpoint_url"]
        for number in range(40):
            created = await http.post(
                f"{scim}/Users", json=user_body(f"lock{number}@clinic.example"), headers=headers
            )
            assert created.status_code == 201, created.text
            read = await http.get(f"{scim}/Users/{created.json()['id']}", headers=headers)
            assert read.status_code == 200, read.text
    opened = _database_processes(server)
    assert len(opened) == server.workers, opened
    holders = _shm_read_locks(Path(f"{database}-shm"))
    assert opened <= holders, f"processes with the database open {opened}, lock holders {holders}"
