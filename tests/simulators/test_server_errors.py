"""The no-5xx check, and what ``balancer = true`` forgives (a balancer's own retried 502)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from simulators.core.expectations import ERROR_SCHEMA, no_server_errors
from simulators.core.recorder import Recorder
from simulators.core.scenario import ScenarioError, load_scenario

if TYPE_CHECKING:
    from pathlib import Path

URL = "http://target/scim/v2/p/Users"
HTML = {"content-type": "text/html"}
SCIM_ERROR = {"schemas": [ERROR_SCHEMA], "status": "502", "detail": "upstream"}


def _verdict(exchanges: list[dict[str, Any]], *, balancer: bool) -> str:
    recorder = Recorder()
    for fields in exchanges:
        recorder.record(at=0.0, url=URL, **fields)
    run = SimpleNamespace(recorder=recorder, scenario=SimpleNamespace(name="s", balancer=balancer))
    return no_server_errors(run).status  # type: ignore[arg-type]


def _create(status: int, subject: str | None = "user:a", **fields: Any) -> dict[str, Any]:
    return {
        "label": "user.create",
        "method": "POST",
        "status": status,
        "subject": subject,
        **fields,
    }


def _lookup(status: int, subject: str = "user:a") -> dict[str, Any]:
    return {"label": "user.lookup", "method": "GET", "status": status, "subject": subject}


def _verify(status: int, subject: str = "user:a") -> dict[str, Any]:
    return {"label": "verify.get", "method": "GET", "status": status, "subject": subject}


CASES = [
    # (exchanges, balancer, verdict)
    ([_create(502, response_headers=HTML), _lookup(200)], True, "passed"),
    ([_create(504, response_headers=HTML), _create(201)], True, "passed"),
    ([_create(502, response_headers=HTML), _lookup(200)], False, "failed"),
    ([_create(502, response_headers=HTML)], True, "failed"),  # never got past it
    ([_create(502, response_headers=HTML), _lookup(500)], True, "failed"),
    ([_create(502, response_headers=HTML), _lookup(200, "user:b")], True, "failed"),
    ([_lookup(200), _create(502, response_headers=HTML)], True, "failed"),  # success before
    ([_create(500), _lookup(200)], True, "failed"),  # 500 is the server's own
    ([_create(502, response_body=SCIM_ERROR), _lookup(200)], True, "failed"),  # the server's 502
    ([_create(502, subject=None), _lookup(200)], True, "failed"),  # no object to follow
    ([_create(502, response_headers=HTML), _verify(200)], True, "failed"),  # not the IdP's retry
]


@pytest.mark.parametrize(("exchanges", "balancer", "verdict"), CASES)
def test_a_balancers_retried_answer_is_forgiven_only_behind_a_balancer(
    exchanges: list[dict[str, Any]], balancer: bool, verdict: str
) -> None:
    assert _verdict(exchanges, balancer=balancer) == verdict


def test_balancer_is_a_scenario_key_and_must_be_true_or_false(tmp_path: Path) -> None:
    body = '[[steps]]\ndo = "cycle"\n'
    (tmp_path / "on.toml").write_text(f"balancer = true\n{body}")
    (tmp_path / "off.toml").write_text(body)
    (tmp_path / "bad.toml").write_text(f'balancer = "yes"\n{body}')
    assert load_scenario(tmp_path / "on.toml").balancer is True
    assert load_scenario(tmp_path / "off.toml").balancer is False
    with pytest.raises(ScenarioError, match="balancer"):
        load_scenario(tmp_path / "bad.toml")
