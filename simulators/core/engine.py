"""The thin I/O part: send built requests through an injected ``httpx.AsyncClient``.

The client decides where requests go (a real URL, ``ASGITransport`` into an app in-process,
or respx in unit tests). The engine adds the dialect's headers and the auth flow, applies the
dialect's per-request timeout and retry policy (``Retry-After`` honoured on the injected
clock), injects configured faults, and records every attempt.
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from simulators.core.auth import AuthenticationFailed

if TYPE_CHECKING:
    from simulators.core.auth import ScimAuth
    from simulators.core.builders import ScimRequest
    from simulators.core.clock import Clock
    from simulators.core.dialect import Dialect
    from simulators.core.faults import Faults
    from simulators.core.recorder import Recorder

__all__ = ["Engine", "Outcome", "retry_after_seconds"]

# The request an exchange made by the auth flow belongs to. Per task, not per engine: with
# several objects in flight, each worker's token request or 401 is filed under its own.
_CURRENT: contextvars.ContextVar[ScimRequest | None] = contextvars.ContextVar(
    "scimlab_current_request", default=None
)


@dataclass
class Outcome:
    request: ScimRequest
    status: int | None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    attempts: int = 1
    auth_failed: bool = False
    injected: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.status in self.request.ok

    @property
    def resources(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict) and isinstance(self.body.get("Resources"), list):
            return [r for r in self.body["Resources"] if isinstance(r, dict)]
        return []

    def describe(self) -> str:
        if self.error:
            return self.error
        text = f"{self.request.method} {self.request.path} answered {self.status}"
        if isinstance(self.body, dict):
            extra = [str(self.body[k]) for k in ("scimType", "detail") if self.body.get(k)]
            if extra:
                text += ": " + " ".join(extra)
        return text


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return response.text


class Engine:
    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        dialect: Dialect,
        *,
        auth: ScimAuth,
        clock: Clock,
        recorder: Recorder,
        faults: Faults | None = None,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.dialect = dialect
        self.auth = auth
        self.clock = clock
        self.recorder = recorder
        self.faults = faults
        self.waits: list[float] = []
        self.paused_until = float("-inf")
        auth.observer = self.observe
        auth.user_agent = dict(dialect.headers).get("User-Agent")

    def observe(self, request: httpx.Request, response: httpx.Response, label: str) -> None:
        """Exchanges made outside :meth:`send`: the auth flow's token requests and a 401 before
        a refresh, and the rotation calls to the management API."""
        body = _json(response)
        if isinstance(body, dict) and isinstance(body.get("access_token"), str):
            self.recorder.add_secret(body["access_token"])
        current = _CURRENT.get()
        self.recorder.record(
            at=self.clock.now(),
            label=label,
            method=request.method,
            url=str(request.url),
            status=response.status_code,
            request_headers=self.recorder.redact_headers(request.headers.multi_items()),
            request_body=self.recorder.body(
                request.content, request.headers.get("content-type", "")
            ),
            response_headers=self.recorder.redact_headers(response.headers.multi_items()),
            response_body=self.recorder.redact(body),
            subject=current.subject if current else None,
            elapsed=_elapsed(response),
        )

    def build(self, request: ScimRequest) -> httpx.Request:
        headers = {"Accept": "application/scim+json"}
        headers.update(dict(self.dialect.headers))
        content = None
        if request.body is not None:
            content = json.dumps(request.body, ensure_ascii=False).encode()
        else:
            headers.pop("Content-Type", None)
        return self.client.build_request(
            request.method,
            self.base_url + request.path,
            params=list(request.query) or None,
            headers=headers,
            content=content,
        )

    async def send(self, request: ScimRequest) -> Outcome:
        """Send with the dialect's retry policy; every attempt is recorded."""
        policy = self.dialect.retry
        attempt = 0
        while True:
            attempt += 1
            await self._hold()
            outcome = await self._attempt(request, attempt)
            retryable = outcome.status in policy.retry_statuses
            if not retryable or attempt >= policy.max_attempts:
                return outcome
            delay = policy.backoff
            if policy.honour_retry_after:
                advised = retry_after_seconds(outcome.headers.get("retry-after"))
                if advised is not None:
                    delay = min(advised, policy.max_retry_after)
                    # The IdP pauses the whole job for a Retry-After (Entra §1.7, Okta §2.7),
                    # so other objects in flight hold their next request too.
                    self.paused_until = max(self.paused_until, self.clock.now() + delay)
            self.waits.append(delay)
            await self.clock.sleep(delay)

    async def _hold(self) -> None:
        """Wait out a job-wide pause another request's ``Retry-After`` started."""
        wait = self.paused_until - self.clock.now()
        if wait > 0.001:  # not a timer's rounding after the retrying request's own sleep
            await self.clock.sleep(wait)

    async def _attempt(self, request: ScimRequest, attempt: int) -> Outcome:
        built = self.build(request)
        token = _CURRENT.set(request)
        started, at = time.perf_counter(), self.clock.now()
        outcome = Outcome(request, None, attempts=attempt)
        response: httpx.Response | None = None
        fault = None
        if self.faults is not None:
            fault = self.faults.pick(request.method, request.path, request.label, at)
        timeout = self.dialect.timeout
        try:
            if fault is not None and fault.stall is not None and fault.status is None:
                if fault.stall >= timeout:
                    self.clock.advance(timeout)
                    raise TimeoutError
                self.clock.advance(fault.stall)
                fault = None
            if fault is not None:
                response = fault.response(built)
                outcome.injected = True
            else:
                async with asyncio.timeout(timeout * self.clock.timeout_scale):
                    response = await self.client.send(built, auth=self.auth)
                    await response.aread()
        except TimeoutError:
            if fault is None:
                self.clock.waited(timeout)
            outcome.injected = fault is not None
            outcome.error = f"timed out after {timeout:g}s with no response"
        except AuthenticationFailed as failure:
            outcome.error, outcome.auth_failed = str(failure), True
        except httpx.HTTPError as error:
            outcome.error = f"{type(error).__name__}: {error}"
        finally:
            _CURRENT.reset(token)
        sent = response.request if response is not None else built
        if response is not None:
            outcome.status = response.status_code
            outcome.headers = {k.lower(): v for k, v in response.headers.items()}
            outcome.body = _json(response)
            outcome.auth_failed = response.status_code == 401
        self.recorder.record(
            at=at,
            label=request.label,
            method=request.method,
            url=str(sent.url),
            status=outcome.status,
            request_headers=self.recorder.redact_headers(sent.headers.multi_items()),
            request_body=self.recorder.redact(request.body),
            response_headers=self.recorder.redact_headers(outcome.headers.items()),
            response_body=self.recorder.redact(outcome.body),
            error=outcome.error,
            subject=request.subject,
            attempt=attempt,
            injected=outcome.injected,
            elapsed=time.perf_counter() - started,
        )
        return outcome


def _elapsed(response: httpx.Response) -> float:
    """Seconds from sending the request to the end of the response, as httpx measured it
    (it is known once the body is read, which the auth flow does before it looks)."""
    try:
        return response.elapsed.total_seconds()
    except RuntimeError:  # the body was not read: httpx has no figure yet
        return 0.0
