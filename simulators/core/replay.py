"""Replaying a trace against any SCIM server and comparing its answers with the recorded ones.

Requests go out in the recorded order (``seq``), fast or at the recorded pace, signed in with
the replay's own credentials (recorded token requests are skipped). Ids and ETags the target
assigns replace the recorded ones in later requests (``IdMap``). Each answer is compared with
the recorded one: the status, the ``scimType``, and every attribute the recorded body had
(extra attributes in the new answer are fine); attributes named in ``tolerate`` (by default
``id`` and ``meta``) are not compared, ETag headers are compared only when ``etag`` is not
tolerated, and with ``patch-204`` a PATCH answered 204 where 200 was recorded (or the other
way round) agrees, as RFC 7644 §3.5.2 allows either. An error answer is compared by status
and ``scimType`` only (``detail`` is prose), and a body only when the statuses agree.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import httpx

from simulators.core.auth import AuthenticationFailed, build_auth
from simulators.core.trace import HOP_BY_HOP

if TYPE_CHECKING:
    from simulators.core.auth import Credentials
    from simulators.core.clock import Clock
    from simulators.core.trace import Trace, TraceExchange

__all__ = [
    "DEFAULT_TOLERATE",
    "Difference",
    "IdMap",
    "ReplayResult",
    "Replayed",
    "compare",
    "replay",
]

DEFAULT_TOLERATE = frozenset({"id", "meta", "etag", "patch-204"})
_SKIPPED_HEADERS = HOP_BY_HOP | {"host", "authorization", "cookie", "proxy-authorization"}
_TOKEN = re.compile(r'[^/"\s\[\]()=,]+')


@dataclass(frozen=True)
class Difference:
    where: str
    recorded: Any
    replayed: Any

    def __str__(self) -> str:
        return f"{self.where}: recorded {_short(self.recorded)}, replayed {_short(self.replayed)}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


class IdMap:
    """Recorded ids (and ETags) -> the ones the target assigned, applied to later requests."""

    def __init__(self, bases: tuple[str, str] | None = None) -> None:
        self.ids: dict[str, str] = {}
        #: The recorded SCIM base and the target's, swapped in URLs (``$ref``, ``location``).
        self.bases = bases if bases and bases[0] and bases[0] != bases[1] else None

    def learn(self, recorded: Any, replayed: Any) -> None:
        if isinstance(recorded, dict) and isinstance(replayed, dict):
            old, new = recorded.get("id"), replayed.get("id")
            if isinstance(old, str) and isinstance(new, str) and old:
                self.ids.setdefault(old, new)
            old_meta, new_meta = recorded.get("meta"), replayed.get("meta")
            if isinstance(old_meta, dict) and isinstance(new_meta, dict):
                old_v, new_v = old_meta.get("version"), new_meta.get("version")
                if isinstance(old_v, str) and isinstance(new_v, str):
                    self.ids[old_v] = new_v
            old_list, new_list = recorded.get("Resources"), replayed.get("Resources")
            if (
                isinstance(old_list, list)
                and isinstance(new_list, list)
                and len(old_list) == len(new_list)
            ):
                for a, b in zip(old_list, new_list, strict=True):
                    self.learn(a, b)

    def learn_etag(self, recorded: str | None, replayed: str | None) -> None:
        if recorded and replayed:
            self.ids[recorded] = replayed

    def text(self, value: str) -> str:
        """A string with every recorded id in it, whole or as a token of a path, filter or
        URL, swapped for the new one."""
        if self.bases is not None and self.bases[0] in value:
            value = value.replace(*self.bases)
        if not self.ids:
            return value
        if value in self.ids:
            return self.ids[value]
        return _TOKEN.sub(lambda m: self.ids.get(m.group(0), m.group(0)), value)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value


# comparing ---------------------------------------------------------------------------------
def _lower_keys(value: dict[str, Any]) -> dict[str, Any]:
    return {k.lower(): v for k, v in value.items()}


def _matches(
    recorded: Any, replayed: Any, tolerate: frozenset[str], where: str
) -> list[Difference]:
    if isinstance(recorded, dict):
        if not isinstance(replayed, dict):
            return [Difference(where, recorded, replayed)]
        found, out = _lower_keys(replayed), []
        for key, value in recorded.items():
            name = key.lower()
            path = f"{where}.{key}" if where else key
            if name in tolerate or path.lower() in tolerate:
                continue
            if name not in found:
                out.append(Difference(path, value, "(absent)"))
                continue
            if name == "schemas" and isinstance(value, list) and isinstance(found[name], list):
                # a server may add the URNs of extensions it keeps (RFC 7643 §3)
                missing = [urn for urn in value if urn not in found[name]]
                out.extend([Difference(path, value, found[name])] if missing else [])
                continue
            out.extend(_matches(value, found[name], tolerate, path))
        return out
    if isinstance(recorded, list):
        if not isinstance(replayed, list) or len(recorded) != len(replayed):
            return [Difference(where, recorded, replayed)]
        remaining = list(replayed)
        for index, item in enumerate(recorded):
            # multi-valued attributes are unordered (RFC 7643 §2.4): any equal item will do
            hit = next(
                (i for i, r in enumerate(remaining) if not _matches(item, r, tolerate, "")), None
            )
            if hit is None:
                return [Difference(f"{where}[{index}]", item, replayed)]
            remaining.pop(hit)
        return []
    if recorded != replayed or type(recorded) is not type(replayed):
        return [Difference(where, recorded, replayed)]
    return []


def compare(
    recorded: TraceExchange,
    status: int | None,
    body: Any,
    headers: dict[str, str],
    ids: IdMap,
    *,
    tolerate: frozenset[str] = DEFAULT_TOLERATE,
) -> list[Difference]:
    """How the replayed answer differs from the recorded one (empty: they agree)."""
    out: list[Difference] = []
    if (
        "patch-204" in tolerate
        and recorded.method == "PATCH"
        and {recorded.status, status} == {200, 204}
    ):
        return out  # RFC 7644 §3.5.2: 200 with the resource, or 204 with none
    if status != recorded.status:
        out.append(Difference("status", recorded.status, status))
    old = ids.value(recorded.response_body)
    old_type = old.get("scimType") if isinstance(old, dict) else None
    new_type = body.get("scimType") if isinstance(body, dict) else None
    if old_type != new_type:
        out.append(Difference("scimType", old_type, new_type))
    if "etag" not in tolerate and ("etag" in recorded.response_headers) != ("etag" in headers):
        out.append(
            Difference("ETag header", recorded.response_headers.get("etag"), headers.get("etag"))
        )
    if recorded.status >= 400 or status != recorded.status or old is None:
        return out  # an error is its status and scimType (detail is prose); a body of
        # another status would only repeat that the status differs
    found = _matches(old, body, tolerate, "")
    return out + [Difference(f"body.{d.where}".rstrip("."), d.recorded, d.replayed) for d in found]


# replaying ---------------------------------------------------------------------------------
@dataclass
class Replayed:
    recorded: TraceExchange
    method: str
    path: str
    query: list[tuple[str, str]]
    body: Any
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: Any = None
    error: str | None = None
    elapsed: float = 0.0
    differences: list[Difference] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.differences

    @property
    def name(self) -> str:
        return f"#{self.recorded.seq} {self.method} {self.path}"


@dataclass
class ReplayResult:
    trace: str
    target: str
    exchanges: list[Replayed]
    elapsed: float
    tolerate: frozenset[str]

    @property
    def differing(self) -> list[Replayed]:
        return [x for x in self.exchanges if not x.agrees]

    @property
    def passed(self) -> bool:
        return not self.differing


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return response.text


async def _send(
    client: httpx.AsyncClient, base: str, x: TraceExchange, ids: IdMap, auth: httpx.Auth
) -> Replayed:
    path = "/".join(ids.text(part) for part in x.path.split("/"))
    query: list[tuple[str, str | int | float | bool | None]] = [
        (k, ids.text(v) if k.lower() == "filter" else v) for k, v in x.query
    ]
    body = ids.value(x.request_body)
    headers = {k: v for k, v in x.request_headers.items() if k not in _SKIPPED_HEADERS}
    for name in ("if-match", "if-none-match"):
        if name in headers:
            headers[name] = ids.text(headers[name])
    content = None
    if body is not None:
        content = (
            json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body
        ).encode()
    sent = Replayed(x, x.method, path, [(k, str(v)) for k, v in query], body)
    started = time.perf_counter()
    try:
        response = await client.request(
            x.method, base + path, params=query or None, headers=headers, content=content, auth=auth
        )
    except (httpx.HTTPError, AuthenticationFailed) as error:
        sent.error = f"{type(error).__name__}: {error}"
        sent.elapsed = time.perf_counter() - started
        return sent
    sent.elapsed = time.perf_counter() - started
    sent.status = response.status_code
    sent.response_headers = {k.lower(): v for k, v in response.headers.items()}
    sent.response_body = _json(response)
    return sent


async def replay(
    trace: Trace,
    client: httpx.AsyncClient,
    scim_url: str,
    credentials: Credentials,
    clock: Clock,
    *,
    pace: Literal["recorded", "fast"] = "fast",
    tolerate: frozenset[str] = DEFAULT_TOLERATE,
    name: str = "trace",
) -> ReplayResult:
    """Send the trace's SCIM requests in order to ``scim_url`` and compare every answer."""
    base, auth = scim_url.rstrip("/"), build_auth(credentials, clock)
    ids = IdMap((str(trace.header.get("base") or "").rstrip("/"), base))
    started, first = clock.now(), None
    wall = time.perf_counter()
    out: list[Replayed] = []
    for x in trace.scim:
        if pace == "recorded":
            first = x.at if first is None else first
            wait = (x.at - first) - (clock.now() - started)
            if wait > 0:
                await clock.sleep(wait)
        done = await _send(client, base, x, ids, auth)
        if done.error is None:
            ids.learn(x.response_body, done.response_body)
            ids.learn_etag(x.response_headers.get("etag"), done.response_headers.get("etag"))
            done.differences = compare(
                x, done.status, done.response_body, done.response_headers, ids, tolerate=tolerate
            )
        else:
            done.differences = [Difference("response", x.status, done.error)]
        out.append(done)
    return ReplayResult(name, base, out, time.perf_counter() - wall, tolerate)
