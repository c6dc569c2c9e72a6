"""A hypothesis-driven fuzzer for the SCIM endpoint: bodies, filters, PATCH paths and query
parameters on every verb. Zero 5xx; every refusal is an RFC 7644 §3.12 error carrying its
request id; and a refused request leaves the database exactly as it was (every row of every
table compared before and after)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import fetch_token, new_practice
from tests.reliability.scim_strategies import GROUP_SCHEMA, Call, calls
from tests.reliability.support import (
    Dumper,
    assert_scim_error,
    deployment,
    sized,
    user_body,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.conftest import PracticeFixture
    from tests.reliability.support import Deployment

pytestmark = pytest.mark.reliability

EXAMPLES = sized(800, 4000)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@dataclass
class Target:
    deployed: Deployment
    practice: PracticeFixture
    headers: dict[str, str]
    users: list[str]
    groups: list[str]
    dumper: Dumper
    snapshot: dict[str, list[str]] = field(default_factory=dict)
    strategy: Any = None
    statuses: Counter[int] = field(default_factory=Counter)

    async def send(self, call: Call) -> None:
        headers = {**self.headers, "Content-Type": call.content_type}
        if call.if_match is not None:
            headers["If-Match"] = call.if_match
        content = call.raw if call.raw is not None else json.dumps(call.body).encode()
        if call.method == "GET" or (call.method == "DELETE" and call.raw is None):
            content = None
        response = await self.deployed.client.request(
            call.method,
            f"{self.practice.scim_path}{call.path}",
            params=call.params,
            content=content,
            headers=headers,
        )
        self.statuses[response.status_code] += 1
        assert response.status_code < 500, (call, response.text)
        assert response.headers.get("x-request-id")
        if response.status_code >= 400:
            assert_scim_error(response)
            assert await self.dumper.dump() == self.snapshot, f"refused {call} changed data"
        else:
            if response.status_code != 204:
                assert response.headers["content-type"].startswith("application/scim+json")
            if call.method != "GET":
                self.snapshot = await self.dumper.dump()


@pytest.fixture(scope="module")
async def target(backend: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Target]:
    async with deployment(backend, tmp_path_factory.mktemp("fuzz")) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        token = await fetch_token(d.client, practice)
        headers = {"Authorization": f"Bearer {token}"}
        users = []
        for i in range(6):
            created = await d.client.post(
                f"{practice.scim_path}/Users",
                json=user_body(f"seed{i}@x.org", name={"givenName": "S", "familyName": f"{i}"}),
                headers=headers,
            )
            users.append(created.json()["id"])
        groups = []
        for i in range(2):
            created = await d.client.post(
                f"{practice.scim_path}/Groups",
                json={
                    "schemas": [GROUP_SCHEMA],
                    "displayName": f"G{i}",
                    "members": [{"value": users[i]}],
                },
                headers=headers,
            )
            groups.append(created.json()["id"])
        async with Dumper(d.url) as dumper:
            fuzzed = Target(d, practice, headers, users, groups, dumper)
            fuzzed.snapshot = await dumper.dump()
            fuzzed.strategy = calls(users, groups)
            yield fuzzed
        total = sum(fuzzed.statuses.values())
        by_class = Counter(f"{status // 100}xx" for status in fuzzed.statuses.elements())
        print(f"\nSCIM fuzz on {backend}: {total} requests, {dict(sorted(by_class.items()))}")


@FUZZ
@given(data=st.data())
async def test_fuzz_users_groups_and_search(target: Target, data: st.DataObject) -> None:
    await target.send(data.draw(target.strategy, label="call"))
