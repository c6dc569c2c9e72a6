"""Writes without a precondition apply in order and are never refused for contention: 50
concurrent PATCHes or PUTs of one user (or group), with no ``If-Match`` or ``If-None-Match``,
are each answered 200 and each counted in ``meta.version``; none is lost. 412 answers only a
client's own precondition. In process (requests really overlap, on the test's event loop) and
against ``scimlab serve --workers 2`` on a real socket, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.conftest import fetch_token, new_practice
from tests.reliability.support import (
    PATCH_SCHEMA,
    UNLIMITED_ENV,
    Server,
    bearer,
    deployment,
    enable_practice,
    fresh_database,
    user_body,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

pytestmark = pytest.mark.reliability

WRITES = 50
DELETED_USERS = 5
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


def _rename(i: int) -> dict[str, Any]:
    return {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "name.givenName", "value": f"Writer{i}"}],
    }


def _version(resource: dict[str, Any]) -> int:
    tag = resource["meta"]["version"]
    assert tag.startswith('W/"'), tag
    return int(tag.removeprefix('W/"').removesuffix('"'))


def _all_applied(responses: Sequence[httpx.Response], first: int) -> dict[str, Any]:
    """Every write answered 200 with its own version, ``first + 1`` to ``first + WRITES``:
    each was applied once, none refused. The answer of the last one applied."""
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: WRITES}, (statuses, [r.text for r in responses if r.is_error][:3])
    answered = sorted((_version(r.json()), r.json()) for r in responses)
    assert [version for version, _ in answered] == list(range(first + 1, first + WRITES + 1))
    return answered[-1][1]


async def _user(http: httpx.AsyncClient, scim: str, headers: dict[str, str], name: str) -> str:
    created = await http.post(f"{scim}/Users", json=user_body(name), headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _group(http: httpx.AsyncClient, scim: str, headers: dict[str, str]) -> str:
    body = {"schemas": [GROUP_SCHEMA], "displayName": "Contested"}
    created = await http.post(f"{scim}/Groups", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _patches_of_one_user(http: httpx.AsyncClient, scim: str, headers: dict[str, str]) -> None:
    """Half select attributes (a query string), half do not: both are the one PATCH
    operation, calling the one ``ProvisioningService.modify``."""
    url = f"{scim}/Users/{await _user(http, scim, headers, 'contested@clinic.example')}"
    responses = await asyncio.gather(
        *(
            http.patch(url + ("?excludedAttributes=groups" if i % 2 else ""), **_json(i, headers))
            for i in range(WRITES)
        )
    )
    last = _all_applied(responses, first=1)
    final = (await http.get(url, headers=headers)).json()
    assert final["name"]["givenName"] == last["name"]["givenName"]
    assert final["meta"]["version"] == f'W/"{1 + WRITES}"'


def _json(i: int, headers: dict[str, str]) -> dict[str, Any]:
    return {"json": _rename(i), "headers": headers}


async def _members_added_to_one_group(
    http: httpx.AsyncClient, scim: str, headers: dict[str, str]
) -> None:
    users = await asyncio.gather(
        *(_user(http, scim, headers, f"member{i:02d}@clinic.example") for i in range(WRITES))
    )
    url = f"{scim}/Groups/{await _group(http, scim, headers)}"

    def add(user_id: str) -> dict[str, Any]:
        operation = {"op": "add", "path": "members", "value": [{"value": user_id}]}
        return {"schemas": [PATCH_SCHEMA], "Operations": [operation]}

    responses = await asyncio.gather(
        *(http.patch(url, json=add(u), headers=headers) for u in users)
    )
    _all_applied(responses, first=1)
    final = (await http.get(url, headers=headers)).json()
    assert {m["value"] for m in final["members"]} == set(users)  # none lost
    assert final["meta"]["version"] == f'W/"{1 + WRITES}"'


async def test_unconditional_patches_of_one_user_all_apply(backend: str, tmp_path: Path) -> None:
    async with deployment(backend, tmp_path) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        headers = {"Authorization": f"Bearer {await fetch_token(d.client, practice)}"}
        await _patches_of_one_user(d.client, practice.scim_path, headers)


async def test_unconditional_puts_of_one_user_all_apply(backend: str, tmp_path: Path) -> None:
    async with deployment(backend, tmp_path) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        headers = {"Authorization": f"Bearer {await fetch_token(d.client, practice)}"}
        scim = practice.scim_path
        name = "replaced@clinic.example"
        url = f"{scim}/Users/{await _user(d.client, scim, headers, name)}"

        def body(i: int) -> dict[str, Any]:
            return user_body(name, name={"givenName": f"Writer{i}", "familyName": "Put"})

        responses = await asyncio.gather(
            *(d.client.put(url, json=body(i), headers=headers) for i in range(WRITES))
        )
        last = _all_applied(responses, first=1)
        final = (await d.client.get(url, headers=headers)).json()
        assert final["name"] == last["name"]
        assert final["meta"]["version"] == f'W/"{1 + WRITES}"'


async def test_members_added_to_one_group_concurrently_are_all_kept(
    backend: str, tmp_path: Path
) -> None:
    async with deployment(backend, tmp_path) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        headers = {"Authorization": f"Bearer {await fetch_token(d.client, practice)}"}
        await _members_added_to_one_group(d.client, practice.scim_path, headers)


async def test_unconditional_puts_of_one_group_all_apply(backend: str, tmp_path: Path) -> None:
    async with deployment(backend, tmp_path) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        headers = {"Authorization": f"Bearer {await fetch_token(d.client, practice)}"}
        url = f"{practice.scim_path}/Groups/{await _group(d.client, practice.scim_path, headers)}"

        def body(i: int) -> dict[str, Any]:
            return {"schemas": [GROUP_SCHEMA], "displayName": f"Team {i}"}

        responses = await asyncio.gather(
            *(d.client.put(url, json=body(i), headers=headers) for i in range(WRITES))
        )
        last = _all_applied(responses, first=1)
        final = (await d.client.get(url, headers=headers)).json()
        assert final["displayName"] == last["displayName"]
        assert final["meta"]["version"] == f'W/"{1 + WRITES}"'


async def test_a_delete_racing_patches_is_not_refused(backend: str, tmp_path: Path) -> None:
    """DELETE without ``If-Match`` in the middle of PATCHes of the same user (on a few users):
    204, and each PATCH either applied before it (200) or found the user gone (404)."""
    async with deployment(backend, tmp_path) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        headers = {"Authorization": f"Bearer {await fetch_token(d.client, practice)}"}
        scim = practice.scim_path
        for user in range(DELETED_USERS):
            url = f"{scim}/Users/{await _user(d.client, scim, headers, f'leaving{user}@x.org')}"
            patches = [d.client.patch(url, **_json(i, headers)) for i in range(WRITES)]
            middle = WRITES // 2
            answers = await asyncio.gather(
                *patches[:middle], d.client.delete(url, headers=headers), *patches[middle:]
            )
            deleted = answers.pop(middle)
            assert deleted.status_code == 204, deleted.text
            assert {r.status_code for r in answers} <= {200, 404}, [r.text for r in answers]
            assert (await d.client.get(url, headers=headers)).status_code == 404


async def test_a_stale_if_match_is_still_refused(backend: str, tmp_path: Path) -> None:
    """The client's own precondition keeps its 412, on users and groups, PATCH and PUT."""
    async with deployment(backend, tmp_path) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        headers = {"Authorization": f"Bearer {await fetch_token(d.client, practice)}"}
        scim = practice.scim_path
        name = "guarded@clinic.example"
        user = f"{scim}/Users/{await _user(d.client, scim, headers, name)}"
        group = f"{scim}/Groups/{await _group(d.client, scim, headers)}"
        renamed = {"schemas": [GROUP_SCHEMA], "displayName": "Renamed"}
        moved_group = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Moved"}],
        }
        for url, body in ((user, _rename(0)), (group, moved_group)):
            moved = await d.client.patch(url, json=body, headers=headers)
            assert moved.status_code == 200, moved.text
        stale = {**headers, "If-Match": 'W/"1"'}
        fresh_user = {**headers, "If-Match": 'W/"2"'}
        refused = [
            await d.client.patch(user, json=_rename(1), headers=stale),
            await d.client.put(user, json=user_body(name), headers=stale),
            await d.client.put(group, json=renamed, headers=stale),
            await d.client.patch(user, json=_rename(1), headers={**headers, "If-None-Match": "*"}),
        ]
        assert [r.status_code for r in refused] == [412] * 4, [r.text for r in refused]
        applied = await d.client.patch(user, json=_rename(1), headers=fresh_user)
        assert applied.status_code == 200, applied.text
        assert applied.json()["meta"]["version"] == 'W/"3"'


async def test_two_workers_on_a_real_socket_refuse_no_unconditional_write(
    backend: str, tmp_path: Path
) -> None:
    """The same over ``scimlab serve --workers 2``: new connections spread the writes over
    both processes, which race through the database rather than one event loop."""
    async with fresh_database(backend, tmp_path) as url:
        server = Server(url, tmp_path / "serve.log", workers=2, extra_env=UNLIMITED_ENV)
        credentials = enable_practice(server.env)
        server.start()
        try:
            limits = httpx.Limits(max_connections=WRITES, max_keepalive_connections=0)
            async with httpx.AsyncClient(base_url=server.base, timeout=30, limits=limits) as http:
                token = await bearer(http, credentials["token_endpoint_url"], credentials)
                headers = {"Authorization": f"Bearer {token}"}
                scim = f"/scim/v2/{credentials['practice_id']}"
                await _patches_of_one_user(http, scim, headers)
                await _members_added_to_one_group(http, scim, headers)
        finally:
            server.stop()
    writers = {
        entry["pid"]
        for line in server.log_lines()
        if line.startswith("{")
        and (entry := json.loads(line)).get("logger") == "scimlab.access"
        and entry.get("method") == "PATCH"
    }
    assert len(writers) == 2  # both workers wrote
