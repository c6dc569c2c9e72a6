"""Expectations read as sentences: what they looked for, what they matched, and on a miss what
was seen instead."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from simulators.core import expectations, sentences
from simulators.core.recorder import Exchange
from simulators.core.registry import find_scenario, make_dialect
from simulators.core.runner import run_scenario
from simulators.core.sentences import default_name
from tests.simulators.conftest import scimlab_target

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from tests.conftest import PracticeFixture


def test_a_responses_expectation_is_named_by_what_it_looks_for() -> None:
    suspended = next(e for e in find_scenario("G-02").expectations if e.id == "G-02.suspended")
    assert (
        suspended.name == "the user.deactivate requests in step due answered 200 or 204 (1 of them)"
    )
    early = next(e for e in find_scenario("G-02").expectations if e.kind == "no_requests")
    assert early.name == "nothing is sent before the deprovisioning delay"  # a given name stays


async def test_a_pass_names_what_it_matched_and_a_miss_what_was_seen_instead(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    target = await scimlab_target("token", client, practice)
    played = await run_scenario(find_scenario("G-02"), make_dialect("google"), target)
    passed = next(r for r in played.results if r.id == "G-02.suspended")
    assert passed.status == "passed"
    assert passed.detail.startswith("matched #")
    assert "user.deactivate PATCH" in passed.detail
    assert "-> 20" in passed.detail

    # The plain G-02 played with Google's "delete" setting: the suspension never comes.
    missed = await run_scenario(find_scenario("G-02"), make_dialect("google", ["delete"]), target)
    miss = next(r for r in missed.results if r.id == "G-02.suspended")
    assert miss.status == "failed"
    assert "0 matching exchanges, expected 1" in miss.detail
    assert "looked for the user.deactivate requests in step due" in miss.detail
    assert "step due sent 1 user.delete" in miss.detail


@pytest.mark.parametrize(
    ("kind", "args", "sentence"),
    [
        ("user", {"person": "dana", "active": False}, "the server's account for dana is inactive"),
        ("user", {"person": "dana", "present": False}, "the server's account for dana is gone"),
        ("user", {"person": "ana"}, "the server's account for ana matches the directory"),
        ("lookup", {"person": "dana", "upper": True, "count": 1}, "userName eq dana's userName"),
        ("users_in_sync", {}, "every account on the server matches the directory"),
        ("group", {"group": "nurses", "members": ["dana"]}, "group nurses has the members dana"),
        ("failures", {"none": True}, "no failure is left outstanding"),
        ("timeouts", {"count": 2}, "2 request(s) timed out"),
    ],
)
def test_expectations_of_every_kind_are_named_by_what_they_check(
    kind: str, args: dict[str, object], sentence: str
) -> None:
    assert sentence in (default_name(kind, args) or "")


def test_every_kind_of_expectation_has_a_sentence() -> None:
    assert set(expectations._HANDLERS) == set(sentences._SENTENCES)


def _create(seq: int, status: int, subject: str, attempt: int = 1) -> Exchange:
    return Exchange(
        seq, 0.0, "user.create", "POST", "/Users", status,
        subject=subject, cycle=1, attempt=attempt,
    )  # fmt: skip


def test_a_throttle_the_client_retried_is_judged_by_the_retry() -> None:
    found = [
        _create(1, 429, "user:dana"),  # retried: its outcome is attempt 2's
        _create(2, 201, "user:ana"),
        _create(3, 201, "user:dana", attempt=2),
        _create(4, 429, "user:lee"),  # never retried: the request's outcome
        _create(5, 409, "user:kim"),
        _create(6, 409, "user:kim", attempt=2),  # a 409 retried is still a 409
    ]
    assert expectations._retried_throttles(found) == {1}
