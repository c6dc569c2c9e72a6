"""Two ``scimlab serve`` hosts on one PostgreSQL, behind HAProxy (``docs/haproxy.cfg``), with
Entra-shaped traffic from the simulator and from locust going through the balancer while

1. one host is killed with SIGKILL: requests fail over, no acknowledged create is lost,
   nothing is made twice, and the simulator's next cycles bring the practice in sync;
2. the other host is restarted gracefully (SIGTERM to its main process): its ``/readyz``
   answers 503 at once, the balancer takes it out while its listener still accepts, a
   request in flight when the listener closes still finishes, and no request fails.

Each host runs in its own network namespace when ``ip netns`` works here, else on a loopback
address of its own (the printed figures say which; ``SCIMLAB_DEPLOYMENT_NETWORK=loopback``
chooses the loopback addresses where namespaces would work). Bounded: 60 people per practice
(``SCIMLAB_RELIABILITY_SCALE=full``: 400) and two locust users per phase.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from loadtests.fleet import seed_fleet
from server.settings import Settings
from tests.deployment.cluster import (
    HAPROXY,
    HAPROXY_CFG,
    Balancer,
    Host,
    namespaces_available,
    two_hosts,
)
from tests.reliability.support import (
    DUPLICATE_NAMES,
    SCIMLAB,
    UNLIMITED_ENV,
    bearer,
    free_port,
    fresh_database,
    query,
    sized,
)

pytestmark = [pytest.mark.reliability, pytest.mark.socket]

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "entra-failover.toml"
LOCUST = Path(sys.executable).parent / "locust"
LOCUSTFILE = HERE.parents[1] / "loadtests" / "locustfile.py"
PEOPLE = sized(60, 400)
DRAIN_SECONDS = 2.0
GRACE_SECONDS = 10.0
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
DUPLICATE_EXTERNAL_IDS = """
SELECT practice_id, external_id, count(*) FROM staff_user
WHERE external_id IS NOT NULL AND NOT scim_deleted GROUP BY 1, 2 HAVING count(*) > 1
"""
#: Requests the balancer never replays once sent (docs/haproxy.cfg): a host dying under
#: them is a 502 the client sees. Every other request must fail over unseen.
NOT_REPLAYED = {"POST", "PATCH"}


async def _socket_url(url: str) -> str | None:
    """The same database through PostgreSQL's Unix socket (reachable from a namespace)."""
    pg = await asyncpg.connect(url)
    try:
        directories = await pg.fetchval("SHOW unix_socket_directories")
    finally:
        await pg.close()
    first = (directories or "").split(",")[0].strip()
    if not first:
        return None
    name = url.rsplit("/", 1)[1]
    return f"postgresql://postgres@/{name}?host={first}"


async def _accounts(url: str, practice_id: str) -> int:
    rows = await query(
        url,
        "SELECT count(*) FROM staff_user WHERE scim_provisioned AND NOT scim_deleted "  # noqa: S608
        f"AND practice_id = '{practice_id}'",
    )
    return int(rows[0][0])


async def _until(condition: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Traffic:
    """One phase's traffic: the Entra simulator on one practice, locust on the fleet."""

    def __init__(self, tag: str, folder: Path, practice: dict[str, str], env: dict[str, str]):
        self.tag, self.folder, self.practice, self.env = tag, folder, practice, env
        self.transcript = folder / f"{tag}.jsonl"
        self.simulator: asyncio.subprocess.Process | None = None
        self.locust: asyncio.subprocess.Process | None = None

    async def start(self, locust_seconds: int) -> None:
        self.locust = await asyncio.create_subprocess_exec(
            str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "--only-summary",
            "-u", "2", "-r", "2", "-t", f"{locust_seconds}s",
            "--csv", str(self.folder / self.tag), "EntraUser",
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.simulator = await asyncio.create_subprocess_exec(
            SCIMLAB, "simulate", "entra",
            "--scim-url", self.practice["scim_endpoint_url"],
            "--token-url", self.practice["token_endpoint_url"],
            "--client-id", self.practice["client_id"],
            "--client-secret", self.practice["client_secret"],
            "--scenario", str(SCENARIO), "--users", str(PEOPLE),
            "--transcript", str(self.transcript),
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip

    async def finish(self) -> str:
        """Wait for both; the simulator's output (its exit status must be 0)."""
        assert self.simulator is not None
        assert self.locust is not None
        output, _ = await asyncio.wait_for(self.simulator.communicate(), timeout=120)
        text = output.decode(errors="replace")
        assert self.simulator.returncode == 0, text[-4000:]
        await asyncio.wait_for(self.locust.wait(), timeout=60)
        return text

    def exchanges(self) -> list[dict[str, Any]]:
        lines = self.transcript.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def locust_failures(self) -> list[tuple[str, str, str, int]]:
        with Path(f"{self.folder / self.tag}_failures.csv").open() as handle:
            return [
                (r["Method"], r["Name"], r["Error"], int(r["Occurrences"]))
                for r in csv.DictReader(handle)
            ]

    def locust_requests(self) -> int:
        with Path(f"{self.folder / self.tag}_stats.csv").open() as handle:
            rows = {r["Name"]: r for r in csv.DictReader(handle)}
        return int(rows["Aggregated"]["Request Count"])


async def test_two_hosts_behind_haproxy_survive_a_kill_and_a_restart(tmp_path: Path) -> None:
    assert HAPROXY is not None, "haproxy is missing: apt-get install haproxy (.ci/run does)"
    began = time.monotonic()
    async with fresh_database("postgresql", tmp_path) as url:
        socket_url = await _socket_url(url)
        mode = os.environ.get("SCIMLAB_DEPLOYMENT_NETWORK") or (
            "netns" if socket_url and namespaces_available() else "loopback"
        )
        balancer = Balancer(free_port(), tmp_path / "haproxy.sock", tmp_path / "haproxy.log")
        env = {
            **os.environ,
            **UNLIMITED_ENV,
            "SCIMLAB_PUBLIC_URL": balancer.base,
            "SCIMLAB_SHUTDOWN_DRAIN_SECONDS": str(DRAIN_SECONDS),
            "SCIMLAB_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
            "SCIMLAB_DATABASE_TIMEOUT": "15",
        }
        # The deploy step: migrations applied once, before any host starts (README), here
        # with the three practices: two for the simulator, one for locust.
        settings = Settings(database_url=url, public_url=balancer.base)
        seeded = await seed_fleet(settings, 2, 0) + await seed_fleet(settings, 1, 10)
        practices = [
            {
                "practice_id": p["practice_id"],
                "scim_endpoint_url": p["scim_url"],
                "token_endpoint_url": p["token_url"],
                "client_id": p["client_id"],
                "client_secret": p["client_secret"],
            }
            for p in seeded[:2]
        ]
        (tmp_path / "fleet.json").write_text(json.dumps(seeded[2:]))
        traffic_env = {**env, "SCIMLAB_FLEET": str(tmp_path / "fleet.json")}

        with two_hosts(mode, url, socket_url or url, env, tmp_path) as hosts:
            for host in hosts:
                host.launch()
            for host in hosts:
                host.wait_ready()
            balancer.start(hosts)
            try:
                balancer.wait_for("host1", "UP")
                balancer.wait_for("host2", "UP")
                held_user, killed = await _kill_phase(
                    hosts, balancer, practices[0], url, traffic_env, tmp_path
                )
                marks = len(balancer.log_lines())
                restarted = await _restart_phase(
                    hosts, balancer, practices, held_user, url, traffic_env, tmp_path
                )
            finally:
                balancer.stop()
            logged = balancer.log_lines()

        assert await query(url, DUPLICATE_NAMES) == []
        assert await query(url, DUPLICATE_EXTERNAL_IDS) == []
        for practice in practices:
            assert await _accounts(url, practice["practice_id"]) == PEOPLE

    figures = {
        "mode": mode,
        "kill": {**killed, **_balancer_figures(logged[:marks])},
        "restart": {**restarted, **_balancer_figures(logged[marks:])},
        "seconds": round(time.monotonic() - began, 1),
    }
    print(f"\ntwo hosts behind HAProxy: {json.dumps(figures)}")


def _balancer_figures(lines: list[str]) -> dict[str, int]:
    """Requests the balancer answered, and those it re-sent to the other host."""
    requests = [line.split() for line in lines if " retries=" in line]
    return {
        "balancer_requests": len(requests),
        "redispatched": sum(1 for r in requests if r[4] != "retries=0"),
    }


async def _kill_phase(
    hosts: list[Host],
    balancer: Balancer,
    practice: dict[str, str],
    database: str,
    env: dict[str, str],
    folder: Path,
) -> tuple[str, dict[str, Any]]:
    """The id of one account the simulator created, and the figures."""
    traffic = Traffic("kill", folder, practice, env)
    await traffic.start(locust_seconds=10)
    await _until(
        lambda: _progress(database, practice["practice_id"], PEOPLE // 3), 60, "a third created"
    )
    killed_at = time.monotonic()
    hosts[0].kill()
    down_after = balancer.wait_for("host1", "DOWN")
    hosts[0].launch()  # its replacement starts while the traffic goes on
    output = await traffic.finish()
    killed_to_done = time.monotonic() - killed_at

    exchanges = traffic.exchanges()
    cut = [e for e in exchanges if e["status"] is None or e["status"] >= 500]
    assert all(e["method"] in NOT_REPLAYED for e in cut), cut  # the rest failed over unseen
    created = {
        e["response_body"]["id"]
        for e in exchanges
        if e["label"] == "user.create" and e["status"] == 201
    }
    rows = await query(
        database,
        "SELECT id::text FROM staff_user WHERE scim_provisioned AND NOT scim_deleted "  # noqa: S608
        f"AND practice_id = '{practice['practice_id']}'",
    )
    assert created <= {row[0] for row in rows}  # every acknowledged create is there
    locust_failures = traffic.locust_failures()
    assert all(method in NOT_REPLAYED for method, *_ in locust_failures), locust_failures

    restart = hosts[0].wait_ready()
    balancer.wait_for("host1", "UP")
    return sorted(created)[0], {
        "simulator_requests": len(exchanges),
        "simulator_cut": len(cut),
        "locust_requests": traffic.locust_requests(),
        "locust_cut": sum(n for *_, n in locust_failures),
        "down_after_s": round(down_after, 2),
        "killed_to_in_sync_s": round(killed_to_done, 1),
        "restart_s": round(restart, 1),
        "simulator": output.strip().splitlines()[-1][:200],
    }


async def _progress(database: str, practice_id: str, at_least: int) -> bool:
    return await _accounts(database, practice_id) >= at_least


async def _restart_phase(
    hosts: list[Host],
    balancer: Balancer,
    practices: list[dict[str, str]],
    held_user: str,
    database: str,
    env: dict[str, str],
    folder: Path,
) -> dict[str, Any]:
    """``held_user``: an account of the first practice, for a PATCH held in flight."""
    host = hosts[1]
    traffic = Traffic("restart", folder, practices[1], env)
    await traffic.start(locust_seconds=10)
    await _until(
        lambda: _progress(database, practices[1]["practice_id"], PEOPLE // 3),
        60,
        "a third created",
    )
    async with httpx.AsyncClient(timeout=30) as http:
        # A request held in flight on this host: a PATCH waiting for a row lock we hold.
        first = practices[0]
        token = await bearer(http, first["token_endpoint_url"], first)
        lock = await asyncpg.connect(database)
        user_id = held_user
        held = lock.transaction()
        await held.start()
        await lock.execute("SELECT 1 FROM staff_user WHERE id = $1::uuid FOR UPDATE", user_id)
        in_flight = asyncio.create_task(
            http.patch(
                f"{host.base}/scim/v2/{first['practice_id']}/Users/{user_id}",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "schemas": [PATCH_SCHEMA],
                    "Operations": [{"op": "replace", "path": "name.givenName", "value": "Held"}],
                },
            )
        )
        await _until(
            lambda: _waiting_on_lock(lock, in_flight), 10, "the PATCH to wait for the lock"
        )

        signalled = time.monotonic()
        host.terminate()
        unready = down = closed = None
        while closed is None:
            now = time.monotonic() - signalled
            if unready is None and host.ready_status() == 503:
                unready = now
            if down is None and balancer.states().get(host.name) == "DOWN":
                down = now
            if not host.accepts():
                closed = now
            assert now < DRAIN_SECONDS + 5, "the listener never closed"
            await asyncio.sleep(0.02)
        assert unready is not None, "/readyz never answered 503 during the drain"
        assert down is not None, "the balancer still had the host in rotation"
        assert unready <= down < closed  # unready first, out of rotation, then closed
        assert not in_flight.done()
        await held.rollback()
        await lock.close()
        answered = await in_flight
        finished = time.monotonic() - signalled
    assert answered.status_code in {200, 204}, answered.text
    kept = await query(database, f"SELECT given_name FROM staff_user WHERE id = '{held_user}'")  # noqa: S608
    assert kept == [("Held",)]  # the answered write is in the database
    assert await asyncio.to_thread(host.process.wait, GRACE_SECONDS + 5) == 0  # type: ignore[union-attr]
    restart = host.start()
    balancer.wait_for(host.name, "UP")
    output = await traffic.finish()

    exchanges = traffic.exchanges()
    failed = [e for e in exchanges if e["status"] is None or e["status"] >= 500]
    assert failed == []
    assert traffic.locust_failures() == []
    return {
        "simulator_requests": len(exchanges),
        "locust_requests": traffic.locust_requests(),
        "unready_after_s": round(unready, 2),
        "out_of_rotation_after_s": round(down, 2),
        "listener_closed_after_s": round(closed, 2),
        "in_flight_answered_after_s": round(finished, 2),
        "restart_s": round(restart, 1),
        "simulator": output.strip().splitlines()[-1][:200],
    }


async def _waiting_on_lock(connection: Any, request: asyncio.Task[httpx.Response]) -> bool:
    if request.done():
        raise AssertionError(f"answered before the lock was released: {request.result().text}")
    waiting = await connection.fetchval(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
        "WHERE NOT l.granted AND a.datname = current_database()"
    )
    return bool(waiting)


def test_the_readme_shows_the_configuration_this_test_runs() -> None:
    readme = (HERE.parents[1] / "README.md").read_text()
    assert f"```haproxy\n{HAPROXY_CFG.read_text()}```" in readme
