"""E-17 against a server that throttles on its own: scimlab with a small per-practice SCIM
rate limit answers some of Entra's creates 429 itself, besides the three 429s the scenario
injects; Entra waits and sends them again, and the scenario still passes (its creates are
counted once for each person, not once for each attempt)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from litestar.testing import AsyncTestClient

from server.app import create_app
from simulators.core.clock import RealClock
from simulators.core.registry import find_scenario, make_dialect
from simulators.core.runner import run_scenario
from tests.conftest import PUBLIC_URL, new_practice
from tests.simulators.conftest import scimlab_target
from tests.simulators.test_e2e_scimlab import describe

if TYPE_CHECKING:
    from server.persistence.store import PiccoloStore
    from server.settings import Settings

#: The practice's bucket: RATE requests a second, BURST at once. Played one object after
#: another, E-17 sends five SCIM requests before the third create, which the simulator
#: answers 429 three times (15 s, which refill the bucket); the five requests after that
#: empty it again, so from then on every request is answered 429 once (Retry-After: 1)
#: before it goes through: the last lookup, the last create, and the verification reads.
RATE, BURST = 1.0, 5


async def test_e17_holds_when_the_server_throttles_creates_itself(
    settings: Settings, store: PiccoloStore
) -> None:
    throttling = replace(settings, scim_rate_limit=RATE, scim_rate_burst=BURST)
    async with AsyncTestClient(app=create_app(throttling), base_url=PUBLIC_URL) as client:
        practice = await new_practice(client, store, settings)
        target = await scimlab_target("oauth", client, practice)
        # One object after another, so which request meets the empty bucket does not depend
        # on how concurrent requests interleave; a real clock, so the bucket refills while
        # Entra waits.
        entra = replace(make_dialect("entra"), concurrency=1)
        result = await run_scenario(find_scenario("E-17"), entra, target, clock=RealClock())

    assert result.passed, describe(result)
    creates = result.recorder.select(label="user.create")
    by_server = [x for x in creates if x.status == 429 and not x.injected]
    assert by_server, "no create was throttled by the server: the run proves nothing"
    assert all(x.response_headers.get("retry-after") for x in by_server)
    throttled = [x for x in creates if x.status == 429]
    assert len(creates) == 6 + len(throttled)
    assert sorted(x.subject for x in creates if x.status == 201) == [
        f"user:user{i}" for i in range(6)
    ]
