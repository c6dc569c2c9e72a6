"""Locust users whose traffic has each identity provider's shape, built from the simulators'
own request builders (no second copy of any payload). Many practices at once: each user
takes the next practice of the fleet (``SCIMLAB_FLEET``, written by ``loadtests.fleet``).

    SCIMLAB_FLEET=fleet.json SCIMLAB_LOAD_SHAPE=storm SCIMLAB_LOAD_USERS=50 \\
        locust -f loadtests/locustfile.py --headless --csv out --html out.html

Only loopback targets: the fleet's URLs are checked before any request is sent.
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import json
import os
import threading
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

import gevent  # type: ignore[import-untyped]
from locust import FastHttpUser, between, task

from loadtests import shapes
from simulators.core import builders
from simulators.core.directory import Person
from simulators.core.engine import retry_after_seconds
from simulators.entra.dialect import ENTRA
from simulators.google.dialect import GOOGLE
from simulators.okta.dialect import OKTA

_FLEET: list[dict[str, Any]] = json.loads(
    open(os.environ.get("SCIMLAB_FLEET", "fleet.json")).read()  # noqa: SIM115
)
#: The longest a user waits before a retry (an IdP may wait hours; a load run must not).
MAX_RETRY_WAIT_S = 10.0
_next_practice = itertools.cycle(range(len(_FLEET)))
_lock = threading.Lock()


def _loopback(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        msg = f"load tests target loopback addresses only, not {host}"
        raise ValueError(msg)
    return url


for _practice in _FLEET:
    _loopback(_practice["scim_url"])
    _loopback(_practice["token_url"])


def _person() -> Person:
    key = uuid.uuid4().hex[:12]
    return Person(
        key=key,
        user_name=f"{key}@load.example.org",
        given_name="Load",
        family_name=key,
        email=f"{key}@load.example.org",
        mobile="+1 555 0100",
        external_id=key,
    )


class _IdpUser(FastHttpUser):
    """Sends builder requests for one practice, the way one IdP's sync job would."""

    abstract = True
    wait_time = between(0.0, 0.05)
    dialect = ENTRA
    # Every practice of a fleet lives on one server; --host may still override it.
    host = "{0.scheme}://{0.netloc}".format(urlsplit(_FLEET[0]["scim_url"])) if _FLEET else None

    def on_start(self) -> None:
        with _lock:
            self.practice = _FLEET[next(_next_practice)]
        self.base = urlsplit(self.practice["scim_url"]).path
        self.created: list[tuple[Person, str]] = []
        self.headers = dict(self.dialect.headers)
        self.authenticate()

    def authenticate(self) -> None:
        """Each IdP class sets its own credentials (OAuth, Basic or a static token)."""

    def send(
        self, request: builders.ScimRequest, *, retry: bool = True, attempt: int = 1
    ) -> dict[str, Any] | None:
        url = self.base + request.path
        if request.query:
            url += "?" + urlencode(request.query)
        body = json.dumps(request.body) if request.body is not None else None
        with self.client.request(
            request.method,
            url,
            name=request.label,
            data=body,
            headers=self.headers,
            catch_response=True,
        ) as response:
            if response.status_code == 401 and retry and self.refreshes_token():
                response.success()
                return self.send(request, retry=False, attempt=attempt)
            wait = self._retry_wait(response.status_code, response.headers, attempt)
            if wait is None and response.status_code not in request.ok:
                response.failure(f"{request.label}: HTTP {response.status_code}")
                return None
            if wait is None:
                response.success()
                return response.json() if response.text else {}
            # Counted as a failure, so throttling shows in the report (when it happened, not
            # once the retries are over); then the same request again after the wait, as the
            # IdP's dialect does.
            response.failure(f"{request.label}: HTTP {response.status_code}, retried")
        gevent.sleep(wait)
        return self.send(request, retry=retry, attempt=attempt + 1)

    def refreshes_token(self) -> bool:
        return False

    def _retry_wait(self, status: int, headers: Any, attempt: int) -> float | None:
        """Seconds to wait before retrying, by the dialect's policy (``Retry-After`` first,
        capped so a load run stays bounded); ``None``: no retry."""
        policy = self.dialect.retry
        if status not in policy.retry_statuses or attempt >= policy.max_attempts:
            return None
        given = (
            retry_after_seconds(headers.get("Retry-After")) if policy.honour_retry_after else None
        )
        return min(policy.backoff if given is None else given, MAX_RETRY_WAIT_S)

    def onboard_one(self) -> None:
        """Lookup-then-create, as every IdP's initial cycle does."""
        person = _person()
        found = self.send(builders.lookup_user(self.dialect, "userName", person.user_name))
        if found is not None and found.get("totalResults") == 0:
            created = self.send(builders.create_user(self.dialect, person))
            if created:
                self.created.append((person, created["id"]))

    def deactivate_one(self) -> None:
        if self.created:
            person, server_id = self.created.pop(0)
            self.send(builders.set_active(self.dialect, person, server_id, False))


class EntraUser(_IdpUser):
    """OAuth client credentials; test connection, lookup-then-create, PATCH cycles."""

    dialect = ENTRA

    def authenticate(self) -> None:
        self.refreshes_token()
        for request in builders.connection_test(self.dialect, str(uuid.uuid4())):
            self.send(request)

    def refreshes_token(self) -> bool:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.practice["client_id"],
            "client_secret": self.practice["client_secret"],
        }
        response = self.client.post(
            urlsplit(self.practice["token_url"]).path,
            data=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            name="oauth.token",
        )
        token = response.json()["access_token"] if response.status_code == 200 else "none"
        self.headers["Authorization"] = f"Bearer {token}"
        return response.status_code == 200

    @task(5)
    def initial_cycle(self) -> None:
        self.onboard_one()

    @task(3)
    def incremental_cycle(self) -> None:
        if self.created:
            person, server_id = self.created[-1]
            changed = {"name.givenName": f"Renamed{uuid.uuid4().hex[:4]}"}
            self.send(builders.update_user(self.dialect, person, server_id, changed))

    @task(1)
    def deactivation(self) -> None:
        self.deactivate_one()


class OktaUser(_IdpUser):
    """HTTP Basic; paged imports, PUT updates, path-less deactivation, group push."""

    dialect = OKTA

    def authenticate(self) -> None:
        pair = f"{self.practice['client_id']}:{self.practice['client_secret']}"
        self.headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        self.pushed_group: tuple[str, str] | None = None

    @task(2)
    def import_page(self) -> None:
        self.send(builders.list_users(1, 100))

    @task(4)
    def provision(self) -> None:
        self.onboard_one()

    @task(2)
    def profile_update(self) -> None:
        if self.created:
            person, server_id = self.created[-1]
            self.send(builders.update_user(self.dialect, person, server_id, {}))

    @task(1)
    def deactivation(self) -> None:
        self.deactivate_one()

    @task(1)
    def group_push(self) -> None:
        if self.pushed_group is None:
            name = f"push-{uuid.uuid4().hex[:8]}"
            self.send(builders.lookup_group(self.dialect, name))
            created = self.send(builders.create_group(self.dialect, name, external_id=None))
            if created:
                self.pushed_group = (created["id"], name)
            return
        if self.created:
            server_id, name = self.pushed_group
            member = self.created[-1][1]
            for request in builders.member_changes(self.dialect, server_id, name, add=[member]):
                self.send(request)


class GoogleUser(_IdpUser):
    """A static token; lookup, create, suspend."""

    dialect = GOOGLE

    def authenticate(self) -> None:
        self.headers["Authorization"] = f"Bearer {self.practice['static_token']}"

    @task(5)
    def provision(self) -> None:
        self.onboard_one()

    @task(1)
    def suspend(self) -> None:
        self.deactivate_one()


_SHAPE = os.environ.get("SCIMLAB_LOAD_SHAPE", "")
if _SHAPE == "steady":

    class Shape(shapes.SteadyShape):
        abstract = False

elif _SHAPE == "ramp":

    class Shape(shapes.StepRampShape):  # type: ignore[no-redef]
        abstract = False

elif _SHAPE == "storm":

    class Shape(shapes.SyncStormShape):  # type: ignore[no-redef]
        abstract = False
