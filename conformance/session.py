"""What a check holds: the target, an injected ``httpx.AsyncClient``, credentials, and a log.

Every request goes through :meth:`Session.request`, which records a redacted exchange, so a
failing check can show the request and response that showed the failure. Checks say what
they expect with :meth:`Session.expect` / :meth:`Session.fail`, or step aside with
:meth:`Session.not_applicable`. What a check creates it registers with :meth:`Session.defer`,
and the runner undoes it when the check ends, whatever its outcome.
"""

from __future__ import annotations

import itertools
import time
import uuid
from typing import TYPE_CHECKING, Any, Final, NoReturn

from conformance import scim
from conformance.exchange import Exchange, Redactor

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import httpx

    from conformance.target import Target

__all__ = ["DEFAULT", "CheckFailed", "NotApplicable", "Session"]


class CheckFailed(Exception):
    """The target broke the rule; ``evidence`` is the exchange that showed it."""

    def __init__(self, message: str, evidence: Exchange | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = evidence


class NotApplicable(Exception):
    """The check cannot apply to this target (a feature it does not announce, say)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Default:
    pass


DEFAULT: Final = _Default()
_TOKEN_SLACK_SECONDS = 5.0


class Session:
    def __init__(self, target: Target, client: httpx.AsyncClient) -> None:
        self.target = target
        self.client = client
        self.redactor = Redactor(
            [target.client_secret, target.token, target.platform_admin]
            + ([target.peer.token] if target.peer else [])
        )
        self.run_tag = uuid.uuid4().hex[:8]
        self.client_id = target.client_id
        self.client_secret = target.client_secret
        self.log: list[Exchange] = []
        self.notes: list[str] = []
        self._evidence: dict[int, Exchange] = {}
        self._cleanups: list[Callable[[], Awaitable[Any]]] = []
        self._token: str | None = target.token
        self._token_expiry = float("inf")
        self._counter = itertools.count(1)
        self._cache: dict[str, Any] = {}

    # --- HTTP --------------------------------------------------------------------------
    async def request(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        started = time.perf_counter()
        response = await self.client.request(method, url, headers=headers, **kwargs)
        await response.aread()
        exchange = self.redactor.exchange(response, (time.perf_counter() - started) * 1000)
        self.log.append(exchange)
        self._evidence[id(response)] = exchange
        return response

    async def scim(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        auth: str | _Default | None = DEFAULT,
        base: str | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = scim.MEDIA_TYPE,
    ) -> httpx.Response:
        """A SCIM call relative to the target's base URL (or ``base``), authenticated with
        the session's credential unless ``auth`` gives an ``Authorization`` value or ``None``."""
        sent = {"Accept": scim.MEDIA_TYPE}
        if isinstance(auth, _Default):
            sent["Authorization"] = await self.authorization()
        elif auth is not None:
            sent["Authorization"] = auth
        if json is not None:
            sent["Content-Type"] = content_type
        sent.update(headers or {})
        url = (base or self.target.scim_base).rstrip("/") + path
        body = None if json is None else scim.encode(json)
        return await self.request(method, url, headers=sent, params=params, content=body)

    async def token_request(
        self, form: dict[str, str], *, basic: tuple[str, str] | None = None
    ) -> httpx.Response:
        """A raw POST to the token endpoint (RFC 6749 §4.4.2), client auth as given."""
        if self.target.token_url is None:
            self.not_applicable("the target has no token endpoint (run with --token)")
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if basic is not None:
            headers["Authorization"] = scim.basic_header(*basic)
        return await self.request("POST", self.target.token_url, headers=headers, data=form)

    async def issue_token(self, *, method: str = "basic") -> tuple[str, int | None]:
        """A fresh access token (and its ``expires_in``) for the session's client credentials,
        with ``client_secret_basic`` or ``client_secret_post`` (RFC 6749 §2.3.1)."""
        client_id, secret = self.require_client_credentials()
        form = {"grant_type": "client_credentials"}
        basic: tuple[str, str] | None = (client_id, secret)
        if method == "post":
            form |= {"client_id": client_id, "client_secret": secret}
            basic = None
        response = await self.token_request(form, basic=basic)
        payload = self.json(response) if response.status_code == 200 else None
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            self.fail(f"the token endpoint issued no access token ({method})", response)
        self.redactor.add(token)
        expires_in = payload.get("expires_in") if isinstance(payload, dict) else None
        return token, expires_in if isinstance(expires_in, int) else None

    async def authorization(self) -> str:
        """``Authorization`` for SCIM calls: the given token, or an OAuth token kept fresh
        (``client_secret_basic``, which RFC 6749 §2.3.1 makes mandatory, else ``post``)."""
        if self.target.uses_oauth and (
            self._token is None or time.monotonic() >= self._token_expiry
        ):
            try:
                token, expires_in = await self.issue_token(method="basic")
            except CheckFailed:
                token, expires_in = await self.issue_token(method="post")
            self._token = token
            lifetime = float("inf") if expires_in is None else expires_in - _TOKEN_SLACK_SECONDS
            self._token_expiry = time.monotonic() + max(lifetime, 0.0)
        assert self._token is not None
        return f"Bearer {self._token}"

    def use_client_secret(self, client_id: str, secret: str) -> None:
        """After a rotation: new client credentials, and the old token is forgotten."""
        self.redactor.add(secret)
        self.client_id, self.client_secret = client_id, secret
        self._token = None

    def forget_token(self) -> None:
        if self.target.uses_oauth:
            self._token = None

    def require_client_credentials(self) -> tuple[str, str]:
        if not self.client_id or not self.client_secret:
            self.not_applicable("no client credentials given (--client-id/--client-secret)")
        return self.client_id, self.client_secret

    # --- outcomes ----------------------------------------------------------------------
    def evidence(self, response: httpx.Response | None) -> Exchange | None:
        if response is not None and id(response) in self._evidence:
            return self._evidence[id(response)]
        return self.log[-1] if self.log else None

    def fail(self, message: str, response: httpx.Response | None = None) -> NoReturn:
        raise CheckFailed(message, self.evidence(response))

    def expect(self, condition: object, message: str, response: httpx.Response | None) -> None:
        if not condition:
            self.fail(message, response)

    def not_applicable(self, reason: str) -> NoReturn:
        raise NotApplicable(reason)

    def json(self, response: httpx.Response) -> Any:
        try:
            payload = response.json()
        except ValueError:
            self.fail(f"the {response.status_code} response body is not JSON", response)
        self.redactor.learn(payload)
        return payload

    def maybe_json(self, response: httpx.Response) -> Any:
        """The JSON body, or ``None`` when there is none (an HTML error page, say)."""
        try:
            return self.json(response) if response.content else None
        except CheckFailed:
            return None

    def expect_status(self, response: httpx.Response, *allowed: int, doing: str) -> Any:
        """The JSON body (or ``None``) of a response whose status must be one of ``allowed``."""
        if response.status_code not in allowed:
            want = " or ".join(str(s) for s in allowed)
            self.fail(f"{doing}: expected HTTP {want}, got {response.status_code}", response)
        return self.json(response) if response.content else None

    # --- lifecycle ---------------------------------------------------------------------
    def begin(self) -> None:
        self.log, self.notes, self._evidence, self._cleanups = [], [], {}, []

    def defer(self, cleanup: Callable[[], Awaitable[Any]]) -> None:
        """Run ``cleanup`` when the check ends (last registered, first run)."""
        self._cleanups.append(cleanup)

    async def finish(self) -> None:
        while self._cleanups:
            cleanup = self._cleanups.pop()
            try:
                await cleanup()
            except Exception as error:
                self.notes.append(f"cleanup failed: {type(error).__name__}: {error}")

    def remember(self, key: str, value: Any) -> Any:
        self._cache[key] = value
        return value

    def recall(self, key: str) -> Any:
        return self._cache.get(key)

    def unique(self, label: str) -> str:
        return f"cf-{self.run_tag}-{label}-{next(self._counter)}"
