"""schemathesis against the server's own OpenAPI document (the management API and the token
endpoint), in positive and negative generation modes: zero 5xx, every refusal in its
endpoint's format with the request id, and a refused request leaves the database unchanged.

The token endpoint reads its form by hand (RFC 6749 §4.4.2), so the document does not
describe the body; the test adds that description before generating.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.conftest import PUBLIC_URL, new_practice
from tests.reliability.support import (
    Dumper,
    assert_api_error,
    assert_oauth_error,
    deployment,
    sized,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.conftest import PracticeFixture
    from tests.reliability.support import Deployment

pytestmark = pytest.mark.reliability

TOKEN_FORM = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["grant_type"],
                "properties": {
                    "grant_type": {"type": "string", "enum": ["client_credentials"]},
                    "client_id": {"type": "string"},
                    "client_secret": {"type": "string"},
                    "scope": {"type": "string"},
                },
            }
        }
    },
}


@dataclass
class Api:
    deployed: Deployment
    practice: PracticeFixture
    staff_ids: list[str]
    dumper: Dumper
    strategy: Any
    snapshot: dict[str, list[str]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)


@pytest.fixture(scope="module")
async def api(backend: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    async with deployment(backend, tmp_path_factory.mktemp("schemathesis")) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        staff = await d.client.get(
            f"/api/v1/practices/{practice.id}/staff", headers=practice.admin_headers
        )
        document = (await d.client.get("/api/docs/openapi.json")).json()
        document["paths"]["/oauth/token"]["post"]["requestBody"] = TOKEN_FORM
        schema = schemathesis.openapi.from_dict(document)
        operations = [result.ok() for result in schema.get_all_operations()]
        strategy = st.one_of(
            [
                operation.as_strategy(generation_mode=mode)
                for operation in operations
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            ]
        )
        async with Dumper(d.url) as dumper:
            ids = [record["id"] for record in staff.json()]
            tested = Api(d, practice, ids, dumper, strategy)
            tested.snapshot = await dumper.dump()
            yield tested
        total = sum(tested.statuses.values())
        by_class = Counter(f"{s // 100}xx" for s in tested.statuses.elements())
        print(
            f"\nschemathesis on {backend}: {total} requests over {len(tested.operations)} "
            f"operations, {dict(sorted(by_class.items()))}"
        )


def _aim(case: Any, api: Api, data: st.DataObject) -> None:
    """Point most cases at real resources with real credentials, so they get past 401/404."""
    positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
    path = case.path_parameters or {}
    if "practice_id" in path and (positive or data.draw(st.booleans())):
        path["practice_id"] = api.practice.id
    if "staff_id" in path and data.draw(st.booleans()):
        path["staff_id"] = data.draw(st.sampled_from(api.staff_ids))
    if case.operation.path == "/oauth/token":
        if positive and isinstance(case.body, dict) and data.draw(st.booleans()):
            case.body["client_id"] = api.practice.client_id
            case.body["client_secret"] = api.practice.client_secret
    elif data.draw(st.integers(0, 9)):
        case.headers = {**(case.headers or {}), **api.practice.admin_headers}


def _for_httpx(kwargs: dict[str, Any]) -> dict[str, Any]:
    """schemathesis speaks ``requests``: raw bytes in ``data`` are ``content`` to httpx."""
    kwargs.pop("cookies", None)
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    return kwargs


@settings(
    max_examples=sized(500, 3000),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
async def test_schemathesis_management_api_and_token_endpoint(
    api: Api, data: st.DataObject
) -> None:
    case = data.draw(api.strategy, label="case")
    _aim(case, api, data)
    kwargs = _for_httpx(case.as_transport_kwargs(base_url=PUBLIC_URL))
    response = await api.deployed.client.request(**kwargs)
    api.statuses[response.status_code] += 1
    api.operations[f"{case.operation.method.upper()} {case.operation.path}"] += 1
    assert response.status_code < 500, (kwargs, response.text)
    assert response.headers.get("x-request-id")
    if response.status_code >= 400:
        if case.operation.path == "/oauth/token":
            assert_oauth_error(response)
        else:
            assert_api_error(response)
        assert await api.dumper.dump() == api.snapshot, f"refused {kwargs} changed data"
    elif case.operation.method.upper() != "GET":
        api.snapshot = await api.dumper.dump()
