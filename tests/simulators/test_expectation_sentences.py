"""Expectations read as sentences: what they looked for, what they matched, and on a miss what
was seen instead."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulators.core.registry import find_scenario, make_dialect
from simulators.core.runner import run_scenario
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
