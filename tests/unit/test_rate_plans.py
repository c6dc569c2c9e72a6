"""The SCIM rate-limit plan a request gets: built once per practice, credential and address,
reused after, bounded, and keyed without keeping any credential."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.ops import ratelimit
from server.ops.buckets import MemoryBuckets
from server.ops.ratelimit import RateLimitMiddleware, RateLimits

if TYPE_CHECKING:
    import pytest

LIMITS = RateLimits(50, 250, 5, 50, 1, 30)


def _scope(practice: str, authorization: str, address: str = "10.0.0.1") -> dict[str, Any]:
    return {
        "type": "http",
        "path": f"/scim/v2/{practice}/Users",
        "path_params": {"practice_id": practice},
        "headers": [(b"accept", b"*/*"), (b"authorization", authorization.encode())],
        "client": (address, 1234),
    }


def _keys(plan: Any) -> tuple[list[str], list[str]]:
    return [d.key for d in plan.before], [d.key for d in plan.on_failure]


async def test_a_plan_is_reused_for_the_same_practice_credential_and_address() -> None:
    limiter = RateLimitMiddleware(None, store=MemoryBuckets(), limits=LIMITS)
    first = await limiter._plan(_scope("p1", "Bearer one"), None)
    again = await limiter._plan(_scope("p1", "Bearer one"), None)
    assert again is first
    others = [
        await limiter._plan(_scope("p2", "Bearer one"), None),
        await limiter._plan(_scope("p1", "Bearer two"), None),
        await limiter._plan(_scope("p1", "Bearer one", "10.0.0.2"), None),
    ]
    assert all(other is not first for other in others)
    assert all(_keys(other) != _keys(first) for other in others)
    # A fresh limiter builds the same plan: reuse changes nothing a request is charged.
    fresh = RateLimitMiddleware(None, store=MemoryBuckets(), limits=LIMITS)
    assert (
        fresh._scim_plan("p1", ratelimit._fingerprint("Bearer one"), "10.0.0.1", "Bearer one")
        == first
    )


async def test_plans_are_keyed_by_fingerprint_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "_SCIM_PLANS_KEPT", 3)
    limiter = RateLimitMiddleware(None, store=MemoryBuckets(), limits=LIMITS)
    for n in range(7):
        await limiter._plan(_scope("p1", f"Bearer secret-{n}"), None)
        assert 1 <= len(limiter._scim_plans) <= 3
    kept = repr(limiter._scim_plans)
    assert "secret" not in kept  # only fingerprints, never the credential


async def test_the_first_authorization_header_names_the_client() -> None:
    """As the SCIM guard reads it: a second header does not move the request to another
    client's bucket."""
    limiter = RateLimitMiddleware(None, store=MemoryBuckets(), limits=LIMITS)
    scope = _scope("p1", "Bearer one")
    scope["headers"].append((b"authorization", b"Bearer two"))
    plan = await limiter._plan(scope, None)
    assert _keys(plan) == _keys(await limiter._plan(_scope("p1", "Bearer one"), None))
