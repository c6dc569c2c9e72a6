"""How a simulated IdP authenticates, as ``httpx.Auth`` flows.

* ``StaticBearer``: the "Secret Token" (Entra), header token (Okta), access token (Google).
* ``HttpBasic``: Okta's Basic Auth.
* ``ClientCredentials``: OAuth 2.0 client credentials (RFC 6749 §4.4), the client secret sent
  in the form (``client_secret_post``) or as HTTP Basic (``client_secret_basic``), both
  selectable because the reference does not know which one Entra uses (idp-behaviors §1.1).
  The token is cached until shortly before it expires (on the injected clock) and fetched
  again once when a request comes back 401. Credentials the token endpoint refused are not
  offered again for ``refusal_backoff`` seconds (or until they change), so one bad secret
  does not turn into a burst of token requests for every object of a cycle.

Every flow reports the exchanges it makes on its own (token requests, the 401 that caused a
refresh) to an observer, so the recorder sees them too.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import httpx

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Generator

    from simulators.core.clock import Clock

__all__ = [
    "AuthenticationFailed",
    "ClientCredentials",
    "Credentials",
    "HttpBasic",
    "ScimAuth",
    "StaticBearer",
    "build_auth",
]


class AuthenticationFailed(Exception):
    """The token endpoint refused the client; there is no token to send."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"token endpoint answered {status}: {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Credentials:
    kind: Literal["oauth", "token", "basic"]
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token: str | None = None
    client_auth: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post"
    scope: str | None = None

    @classmethod
    def from_options(
        cls,
        *,
        token_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        client_auth: str = "post",
        token: str | None = None,
        basic: str | None = None,
    ) -> Credentials:
        """Exactly one of: OAuth (token URL, id, secret), a static token, ``ID:SECRET``."""
        oauth = token_url or client_id or client_secret
        if sum(bool(x) for x in (oauth, token, basic)) != 1:
            raise ValueError(
                "give exactly one of: --token-url/--client-id/--client-secret, --token, --basic"
            )
        if token:
            return cls("token", token=token)
        if basic:
            user, sep, secret = basic.partition(":")
            if not sep:
                raise ValueError("--basic takes ID:SECRET")
            return cls("basic", client_id=user, client_secret=secret)
        if not (token_url and client_id and client_secret):
            raise ValueError("OAuth needs --token-url, --client-id and --client-secret")
        if client_auth == "basic":
            return cls("oauth", token_url, client_id, client_secret, None, "client_secret_basic")
        return cls("oauth", token_url, client_id, client_secret, None, "client_secret_post")

    def secrets(self) -> list[str]:
        return [s for s in (self.client_secret, self.token) if s]

    def with_secret(self, secret: str) -> Credentials:
        """The same credentials with a new secret (or token, for static tokens)."""
        if self.kind == "token":
            return replace(self, token=secret)
        return replace(self, client_secret=secret)


class ScimAuth(httpx.Auth, abc.ABC):
    observer: Callable[[httpx.Request, httpx.Response, str], None] | None = None
    #: The simulated IdP's ``User-Agent``, sent on token requests too (set by the engine).
    user_agent: str | None = None

    @abc.abstractmethod
    def update(self, credentials: Credentials) -> None:
        """Use new credentials from the next request on (after a secret rotation)."""

    def _notify(self, request: httpx.Request, response: httpx.Response, label: str) -> None:
        if self.observer is not None:
            self.observer(request, response, label)


class StaticBearer(ScimAuth):
    def __init__(self, token: str) -> None:
        self.token = token

    def update(self, credentials: Credentials) -> None:
        self.token = credentials.token or ""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


class HttpBasic(ScimAuth):
    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password

    def update(self, credentials: Credentials) -> None:
        self.username = credentials.client_id or ""
        self.password = credentials.client_secret or ""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        pair = f"{self.username}:{self.password}".encode()
        request.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        yield request


class ClientCredentials(ScimAuth):
    requires_response_body = True

    def __init__(
        self,
        credentials: Credentials,
        clock: Clock,
        *,
        skew: float = 60.0,
        refusal_backoff: float = 300.0,
    ) -> None:
        self.credentials = credentials
        self.clock = clock
        self.skew = skew
        self.refusal_backoff = refusal_backoff
        self.access_token: str | None = None
        self.expires_at = 0.0
        self.fetches = 0
        self.refused: AuthenticationFailed | None = None
        self.refused_until = 0.0
        self._fetching = asyncio.Lock()

    def update(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.access_token = None
        self.refused = None

    def _valid(self) -> bool:
        return self.access_token is not None and self.clock.now() < self.expires_at

    def token_request(self) -> httpx.Request:
        c = self.credentials
        form = {"grant_type": "client_credentials"}
        headers = {"Accept": "application/json"}
        if self.user_agent:
            headers["User-Agent"] = self.user_agent
        if c.client_auth == "client_secret_basic":
            pair = f"{c.client_id}:{c.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form |= {"client_id": c.client_id or "", "client_secret": c.client_secret or ""}
        if c.scope:
            form["scope"] = c.scope
        return httpx.Request("POST", c.token_url or "", data=form, headers=headers)

    def _accept(self, request: httpx.Request, response: httpx.Response) -> None:
        self.fetches += 1
        self._notify(request, response, "auth.token")
        if response.status_code != 200:
            self.access_token = None
            try:
                detail = str(response.json().get("error", response.text[:200]))
            except (ValueError, AttributeError):
                detail = response.text[:200]
            self.refused = AuthenticationFailed(response.status_code, detail)
            self.refused_until = self.clock.now() + self.refusal_backoff
            raise self.refused
        try:
            payload = response.json()
            token = str(payload["access_token"])
            lifetime = float(payload.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError, json.JSONDecodeError) as error:
            detail = f"unusable token response: {error}"
            raise AuthenticationFailed(response.status_code, detail) from None
        self.access_token = token
        self.expires_at = self.clock.now() + max(lifetime - self.skew, 0.0)

    def _check_refusal(self) -> None:
        if self.refused is not None and self.clock.now() < self.refused_until:
            raise AuthenticationFailed(
                self.refused.status, f"{self.refused.detail} (not retried yet)"
            )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not self._valid():
            self._check_refusal()
            token_request = self.token_request()
            self._accept(token_request, (yield token_request))
        request.headers["Authorization"] = f"Bearer {self.access_token}"
        response = yield request
        if response.status_code == 401:
            self._notify(request, response, "auth.rejected")
            self._check_refusal()
            token_request = self.token_request()
            self._accept(token_request, (yield token_request))
            request.headers["Authorization"] = f"Bearer {self.access_token}"
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """``auth_flow``, with the first token fetched under a lock: objects in flight
        together that find no valid token wait for one token request rather than each
        sending their own (a cycle at concurrency N would otherwise open with N)."""
        if not self._valid():
            async with self._fetching:
                if not self._valid():
                    self._check_refusal()
                    token_request = self.token_request()
                    response = yield token_request
                    await response.aread()
                    self._accept(token_request, response)
        flow = super().async_auth_flow(request)
        try:
            sent = await flow.__anext__()
            while True:
                response = yield sent
                try:
                    sent = await flow.asend(response)
                except StopAsyncIteration:
                    return
        finally:
            await flow.aclose()


def build_auth(credentials: Credentials, clock: Clock) -> ScimAuth:
    if credentials.kind == "token":
        return StaticBearer(credentials.token or "")
    if credentials.kind == "basic":
        return HttpBasic(credentials.client_id or "", credentials.client_secret or "")
    if not credentials.token_url:
        raise ValueError("OAuth client credentials need a token URL")
    return ClientCredentials(credentials, clock)
