"""Rate limits on the SCIM and token endpoints (a Litestar middleware after routing).

SCIM (``/scim/v2/{practice_id}/...``): every request takes a token from the practice's
bucket and from its client's (the credential it presents: a fingerprint of the
``Authorization`` header, never the credential itself). A request that turns out
unauthenticated (401) gives both back and is charged to the failure buckets of its source
address (and of the client id, for HTTP Basic) instead, so nobody can use up a practice's
budget without its credentials. (On SCIM the address's failure bucket is per practice, so a
tenant whose identity provider keeps failing cannot lock out other tenants that share the
IdP's egress addresses.)

Token endpoint: every request with a client id takes a token from that client's bucket (a
client id belongs to one practice, so this is the practice's budget too). A refused request
(4xx) is charged to the failure buckets of its client id and source address; while either is
empty, requests are answered 429 before any secret is checked.

Over a limit: 429 with ``Retry-After`` and the endpoint's own error body (RFC 7644 §3.12 on
SCIM; RFC 6749 §5.2 JSON with the ``slow_down`` code on the token endpoint).

Console sign-in (``SignInBuckets``): the sign-in service asks, once it knows the account,
for each attempt (password or code) to take a token from its source address's bucket and
from the account's, in the same store; the console answers its own 429 page.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote_plus

from litestar import Request
from litestar.enums import ScopeType
from scim2_models import Error

from server.ops.buckets import Draw
from server.ops.status import StatusWatch
from server.security import parse_basic_credentials

if TYPE_CHECKING:
    from uuid import UUID

    from litestar.types import ASGIApp, Receive, Scope, Send

    from server.ops.buckets import BucketStore

__all__ = ["REFUSED", "Plan", "RateLimitMiddleware", "RateLimits", "SignInBuckets", "SignInLimits"]


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Refill rates (per second) and bursts; see ``Settings``."""

    scim_rate: float
    scim_burst: float
    token_rate: float
    token_burst: float
    failure_rate: float
    failure_burst: float


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """Console sign-in attempts per second and bursts, per address and per account."""

    address_rate: float
    address_burst: float
    account_rate: float
    account_burst: float


class SignInBuckets:
    """``server.domain.signin.SignInLimiter`` on a bucket store. The address's bucket spans
    practices (one source spraying many practices' accounts); the account's is keyed by the
    practice and the account (only fingerprints of addresses and names are kept)."""

    def __init__(self, store: BucketStore, limits: SignInLimits) -> None:
        self._store = store
        self._limits = limits

    async def attempt(self, practice_id: UUID, address: str, account: str) -> float:
        limits = self._limits
        return await self._store.draw(
            [
                Draw(
                    f"signin:a:{_fingerprint(address)}", limits.address_rate, limits.address_burst
                ),
                Draw(
                    f"signin:u:{practice_id}:{_fingerprint(account)}",
                    limits.account_rate,
                    limits.account_burst,
                ),
            ]
        )


def _fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:24]


def _basic_client_id(header: str) -> str | None:
    try:
        credentials = parse_basic_credentials(header)
    except ValueError:
        return None
    return None if credentials is None else unquote_plus(credentials[0])


@dataclass(frozen=True, slots=True)
class Plan:
    """What one request draws before it runs, and what a failure draws after."""

    kind: str
    before: list[Draw]
    on_failure: list[Draw]


#: ``admit``'s answer for a request it refused (and answered).
REFUSED = Plan("refused", [], [])


#: SCIM plans kept for reuse (then all are forgotten at once: rebuilding one is cheap).
_SCIM_PLANS_KEPT = 4096


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, store: BucketStore, limits: RateLimits) -> None:
        self.app = app
        self._store = store
        self._limits = limits
        # A SCIM request's plan depends only on its practice, credential and address, and
        # building it (two hashes, seven draws) was a tenth of a read by id's CPU. Keyed by
        # the credential's fingerprint: no credential is kept.
        self._scim_plans: dict[tuple[str, str, str], Plan] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan = await self.admit(scope, receive, send)
        if plan is None:
            await self.app(scope, receive, send)
            return
        if plan is REFUSED:
            return
        watch = StatusWatch(send)
        try:
            await self.app(scope, receive, watch)
        finally:
            await self.settle(plan, watch.status)

    async def admit(self, scope: Scope, receive: Receive, send: Send) -> Plan | None:
        """Take what the request costs: its plan, for ``settle``; None where no limit
        applies; ``REFUSED`` when it was over a limit and has been answered 429."""
        plan = await self._plan(scope, receive) if scope["type"] == ScopeType.HTTP else None
        if plan is None:
            return None
        wait = await self._store.draw(plan.before)
        if wait > 0:
            await _too_many(plan.kind, wait, send)
            return REFUSED
        return plan

    async def settle(self, plan: Plan, status: int) -> None:
        """The admitted request has ended with ``status`` (0: no response): a failure gives
        back what it took and is charged to the failure buckets."""
        if _failed(plan.kind, status):
            await self._store.give_back(plan.before)
            await self._store.draw(plan.on_failure)

    def _failures(self, address: str, client_id: str | None, where: str = "") -> list[Draw]:
        limits = self._limits
        keys = [f"fail:a:{_fingerprint(address)}{where}"]
        if client_id:
            # Per client *and* address: guesses from elsewhere must not lock the identity
            # provider out of its own client id (secrets are 256-bit; throttling is for load).
            keys.append(f"fail:c:{_fingerprint(client_id)}:{_fingerprint(address)}")
        return [Draw(k, limits.failure_rate, limits.failure_burst) for k in keys]

    async def _plan(self, scope: Scope, receive: Receive) -> Plan | None:
        path: str = scope["path"]
        address = (scope.get("client") or ("unknown", 0))[0]
        authorization = _authorization(scope)
        if path.startswith("/scim/") and "practice_id" in scope.get("path_params", {}):
            practice = str(scope["path_params"]["practice_id"])
            asking = (practice, _fingerprint(authorization), address)
            plan = self._scim_plans.get(asking)
            if plan is None:
                if len(self._scim_plans) >= _SCIM_PLANS_KEPT:
                    self._scim_plans.clear()
                plan = self._scim_plans[asking] = self._scim_plan(*asking, authorization)
            return plan
        if path == "/oauth/token":
            client_id = await _token_client_id(scope, receive, authorization)
            failures = self._failures(address, client_id)
            before = [Draw(d.key, d.rate, d.burst, cost=0.0) for d in failures]
            if client_id:
                key = f"token:c:{_fingerprint(client_id)}"
                before.append(Draw(key, self._limits.token_rate, self._limits.token_burst))
            charges = [Draw(d.key, d.rate, d.burst, need=0.0) for d in failures]
            return Plan("token", before, charges)
        return None

    def _scim_plan(self, practice: str, credential: str, address: str, authorization: str) -> Plan:
        limits = self._limits
        failures = self._failures(address, _basic_client_id(authorization), f":{practice}")
        taken = [
            Draw(f"scim:p:{practice}", limits.scim_rate, limits.scim_burst),
            Draw(f"scim:c:{practice}:{credential}", limits.scim_rate, limits.scim_burst),
        ]
        peeks = [Draw(d.key, d.rate, d.burst, cost=0.0) for d in failures]
        # A 401 hands the practice's tokens back and charges the failure buckets.
        refunds = [Draw(d.key, d.rate, d.burst, cost=-1.0, need=0.0) for d in taken]
        charges = [Draw(d.key, d.rate, d.burst, need=0.0) for d in failures]
        return Plan("scim", taken + peeks, refunds + charges)


def _authorization(scope: Scope) -> str:
    """The first ``Authorization`` header, as the SCIM guard reads it (ASGI header names are
    lower case)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return ""


async def _token_client_id(scope: Scope, receive: Receive, authorization: str) -> str | None:
    basic = _basic_client_id(authorization)
    if basic is not None:
        return basic
    # Litestar keeps the body it read in the scope, so the handler reads it again for free.
    body = await Request[Any, Any, Any](scope, receive).body()
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return None
    return form.get("client_id") or None


def _failed(kind: str, status: int) -> bool:
    if kind == "scim":
        return status == 401
    return 400 <= status < 500 and status != 429


async def _too_many(kind: str, wait: float, send: Send) -> None:
    seconds = max(1, math.ceil(wait))
    detail = f"too many requests; retry after {seconds} s"
    headers = [(b"retry-after", str(seconds).encode())]
    if kind == "scim":
        error = Error(status=429, detail=detail)
        body = json.dumps(error.model_dump()).encode()
        headers.append((b"content-type", b"application/scim+json"))
    else:
        body = json.dumps({"error": "slow_down", "error_description": detail}).encode()
        headers += [
            (b"content-type", b"application/json"),
            (b"cache-control", b"no-store"),
            (b"pragma", b"no-cache"),
        ]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
