"""E-17's rule, over recorded exchanges: each person is created exactly once, counting only
attempts that were not throttled and sent again. A server that throttles creates itself (on
top of the three injected 429s) passes; one that makes Entra create someone twice fails."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from simulators.core.expectations import evaluate
from simulators.core.recorder import Recorder
from simulators.core.registry import find_scenario
from simulators.core.scenario import Expectation

URL = "http://target/scim/v2/p/Users"
PEOPLE = [f"user{i}" for i in range(6)]


def _rule() -> Expectation:
    return next(
        e for e in find_scenario("E-17").expectations if e.id.endswith("only-failed-retried")
    )


def create(person: str, status: int | None, attempt: int = 1, **fields: Any) -> dict[str, Any]:
    return {"person": person, "status": status, "attempt": attempt, **fields}


def injected(person: str) -> dict[str, Any]:
    return create(person, 429, injected=True, response_headers={"retry-after": "5"})


def throttled(person: str, attempt: int = 1, status: int = 429) -> dict[str, Any]:
    return create(person, status, attempt, response_headers={"retry-after": "1"})


def usual() -> list[dict[str, Any]]:
    """The scenario against a server that never throttles: the third, fourth and fifth
    creates are answered 429 by the simulator and sent again."""
    return [
        create("user0", 201),
        create("user1", 201),
        injected("user2"),
        injected("user3"),
        injected("user4"),
        create("user5", 201),
        create("user2", 201, 2),
        create("user3", 201, 2),
        create("user4", 201, 2),
    ]


async def _verdict(creates: list[dict[str, Any]]) -> tuple[str, str]:
    recorder = Recorder()
    recorder.cycle = 1
    for c in creates:
        fields = dict(c)
        recorder.record(
            at=0.0, label="user.create", method="POST", url=URL,
            subject=f"user:{fields.pop('person')}", **fields,
        )  # fmt: skip
    run = SimpleNamespace(recorder=recorder, target=SimpleNamespace(compare=()))
    checked = await evaluate(_rule(), run)  # type: ignore[arg-type]
    return checked.status, checked.detail


CASES = [
    # (id, creates, verdict, a phrase of the detail on a failure)
    ("injected-only", usual(), "passed", ""),
    (
        "server-throttles-another-create",
        [*usual()[:5], throttled("user5"), *usual()[6:], create("user5", 201, 2)],
        "passed",
        "",
    ),
    (
        "server-throttles-one-create-twice",
        [throttled("user0"), throttled("user0", 2), create("user0", 201, 3), *usual()[1:]],
        "passed",
        "",
    ),
    (
        "server-throttles-the-retry-of-an-injected-429",
        [*usual()[:6], throttled("user2", 2), create("user2", 201, 3), *usual()[7:]],
        "passed",
        "",
    ),
    (
        "server-answers-503-with-retry-after",
        [throttled("user0", status=503), create("user0", 201, 2), *usual()[1:]],
        "passed",
        "",
    ),
    (
        "a-201-then-another-create",
        [*usual(), create("user1", 201)],
        "failed",
        "user:user1 sent 2 times",
    ),
    (
        "a-201-then-another-create-that-was-throttled",
        [*usual(), throttled("user1"), create("user1", 201, 2)],
        "failed",
        "user:user1 sent 2 times",
    ),
    (
        "a-201-then-a-409",
        [*usual(), create("user1", 409)],
        "failed",
        "user:user1 sent 2 times",
    ),
    (
        "a-timed-out-create-sent-again",
        [create("user0", None, error="timed out"), *usual()],
        "failed",
        "user:user0 sent 2 times",
    ),
    (
        "a-create-throttled-on-its-last-attempt",
        [*usual()[:5], *(throttled("user5", n) for n in (1, 2, 3, 4)), *usual()[6:]],
        "failed",
        "-> 429",
    ),
    (
        "a-person-never-created",
        [c for c in usual() if c["person"] != "user5"],
        "failed",
        "5 matching exchanges (throttled attempts sent again left out), expected 6",
    ),
    (
        "one-person-twice-another-never",
        [*(c for c in usual() if c["person"] != "user5"), create("user0", 201)],
        "failed",
        "user:user0 sent 2 times",
    ),
    (
        "nothing-throttled",
        [create(p, 201) for p in PEOPLE],
        "failed",
        "no matching exchange answered [429]",
    ),
]


@pytest.mark.parametrize(
    ("creates", "verdict", "phrase"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
async def test_each_person_is_created_once_not_counting_throttled_attempts(
    creates: list[dict[str, Any]], verdict: str, phrase: str
) -> None:
    status, detail = await _verdict(creates)
    assert status == verdict, detail
    assert phrase in detail


async def test_a_throttled_attempt_sent_again_is_not_counted_by_any_bound() -> None:
    recorder = Recorder()
    recorder.record(at=0.0, label="user.put", method="PUT", url=URL, status=429, subject="u")
    recorder.record(at=0.0, label="user.put", method="PUT", url=URL, status=200, subject="u",
                    attempt=2)  # fmt: skip
    run = SimpleNamespace(recorder=recorder, target=SimpleNamespace(compare=()))
    verdicts = {
        "count=1": ({"count": 1}, "passed"),
        "max_count=1": ({"max_count": 1}, "passed"),
        "once_each": ({"once_each": True}, "passed"),
        "count=2": ({"count": 2}, "failed"),
        "min_count=2": ({"min_count": 2}, "failed"),
    }
    for name, (args, verdict) in verdicts.items():
        e = Expectation("s.x", "responses", "x", {"label": "user.put", "status": [200], **args})
        assert (await evaluate(e, run)).status == verdict, name  # type: ignore[arg-type]
    e = Expectation("s.x", "responses", "x", {"label": "user.put", "status": [429]})
    assert (await evaluate(e, run)).status == "failed"  # the 429 is judged by its retry
