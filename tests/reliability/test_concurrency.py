"""50 concurrent clients creating, patching (If-Match) and deleting overlapping users for a
bounded time: no duplicate userNames, no lost update, totals consistent with the log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.conftest import fetch_token, new_practice
from tests.reliability.support import DUPLICATE_NAMES, deployment, query, sized
from tests.reliability.workloads import check_race, live_users, race

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.reliability

SECONDS = sized(6, 60)


async def test_fifty_clients_race_on_overlapping_users(backend: str, tmp_path: Path) -> None:
    async with deployment(backend, tmp_path) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        headers = {"Authorization": f"Bearer {await fetch_token(d.client, practice)}"}
        log = await race(d.client, [practice.scim_path], headers, clients=50, seconds=SECONDS)
        users = await live_users(d.client, practice.scim_path, headers)
        figures = check_race(log, users)
        assert await query(d.url, DUPLICATE_NAMES) == []  # the database agrees
    assert figures["created"] > 0
    assert figures["increments"] > 0
    print(f"\nrace on {backend}, 50 clients, {SECONDS} s: {figures}")
