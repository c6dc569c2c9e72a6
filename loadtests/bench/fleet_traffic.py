"""Entra-shaped traffic for one practice of a fleet, from the simulators' own builders.

A practice first does what Entra does when a provisioning job starts: it fetches an access
token with its client credentials (``simulators.core.auth.ClientCredentials``) and runs the
Test Connection lookups. It also pages its seeded users once, to have server ids to update.
Then ``entra_traffic`` turns a send index into the next request of a repeating ten-step cycle
that mixes an initial cycle (look a newcomer up, miss, create it) with incremental ones (look
up, read before update, PATCH attributes, PATCH ``active``), as idp-behaviors §1.2-§1.5 say.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import httpx

from loadtests.bench.load import request_bytes
from loadtests.bench.paced import Send
from simulators.core import builders
from simulators.core.auth import ClientCredentials, Credentials
from simulators.core.clock import RealClock
from simulators.core.directory import Person, generated_person
from simulators.entra.dialect import ENTRA

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["CYCLE", "FleetPractice", "connect", "entra_traffic"]

#: One cycle; a newcomer is looked up before it is created and a user is read before it is
#: PATCHed (Entra's read_before_update). Reads are 6 of 10, as in an incremental cycle.
CYCLE = (
    "lookup",
    "lookup_newcomer",
    "create",
    "read",
    "update",
    "lookup",
    "lookup_newcomer",
    "create",
    "read",
    "set_active",
)


@dataclass(frozen=True)
class FleetPractice:
    number: int
    base: str  # the SCIM base path, /scim/v2/<practice id>
    token: str  # the access token from the token endpoint
    seeded: list[tuple[str, str]]  # (server id, userName) of the seeded users


async def connect(number: int, practice: dict[str, Any], users: int) -> FleetPractice:
    """Token, Test Connection and one page of seeded users, for a practice of ``seed_fleet``."""
    credentials = Credentials(
        "oauth", practice["token_url"], practice["client_id"], practice["client_secret"]
    )
    auth = ClientCredentials(credentials, RealClock())
    scim_url = practice["scim_url"]
    setup = [
        *builders.connection_test(ENTRA, str(uuid.uuid4())),
        builders.list_users(1, max(1, min(users, 1000))),
    ]
    async with httpx.AsyncClient(auth=auth, timeout=60) as client:
        for request in setup:
            response = await client.request(
                request.method, scim_url + request.path, params=request.query
            )
            if response.status_code not in request.ok:
                msg = f"practice {number}: {request.label} answered {response.status_code}"
                raise RuntimeError(msg)
    page = response.json().get("Resources", [])
    seeded = [(user["id"], user["userName"]) for user in page]
    if not seeded or auth.access_token is None:
        msg = f"practice {number}: no seeded users or no access token"
        raise RuntimeError(msg)
    return FleetPractice(number, urlsplit(scim_url).path, auth.access_token, seeded)


def _send(request: builders.ScimRequest, base: str, host: str, headers: dict[str, str]) -> Send:
    path = base + request.path
    if request.query:
        path += "?" + urlencode(request.query)
    body = b"" if request.body is None else json.dumps(request.body).encode()
    data = request_bytes(request.method, path, host=host, headers=headers, body=body)
    return Send(data, request.ok, request.label)


def entra_traffic(practice: FleetPractice, host: str) -> Callable[[int], Send]:
    """index -> the index-th request of the practice's repeating Entra cycle."""
    headers = {**dict(ENTRA.headers), "Authorization": f"Bearer {practice.token}"}
    seeded = practice.seeded
    domain = f"p{practice.number}.fleet.example.org"

    def make(index: int) -> Send:
        cycle, step = divmod(index, len(CYCLE))
        # Two newcomers and two seeded users per cycle: the first half works on one of each.
        turn = 2 * cycle + (step >= len(CYCLE) // 2)
        newcomer = generated_person(turn, prefix="fleet", domain=domain)
        server_id, user_name = seeded[turn % len(seeded)]
        person = Person(key=f"seed-{turn % len(seeded)}", user_name=user_name)
        kind = CYCLE[step]
        if kind == "lookup":
            request = builders.lookup_user(ENTRA, "userName", user_name)
        elif kind == "lookup_newcomer":
            request = builders.lookup_user(ENTRA, "userName", newcomer.user_name)
        elif kind == "create":
            request = builders.create_user(ENTRA, newcomer)
        elif kind == "read":
            request = builders.get_user(server_id)
        elif kind == "update":
            changed = {"name.givenName": f"Given{cycle}", "name.familyName": f"Family{cycle}"}
            request = builders.update_user(ENTRA, person, server_id, changed)
        else:
            # Deactivated on the first pass over the seeded users, reactivated on the next.
            active = (turn // len(seeded)) % 2 == 1
            request = builders.set_active(ENTRA, person, server_id, active)
        return _send(request, practice.base, host, headers)

    return make
