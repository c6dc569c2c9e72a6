"""Traces: recorded SCIM exchanges in a versioned JSON Lines file (docs/trace-format.md).

The first line is a header naming the format and its version; every other line is one
exchange (method, path relative to the SCIM base, query, headers, body, status, response,
timing). ``scimlab record`` (a reverse proxy) and the server's own recording write it through
``TraceWriter``, which redacts secrets (``Redactor``) and can pseudonymise personal data
before a line is written; ``load_trace`` checks every line and names the one that is wrong.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TextIO
from urllib.parse import parse_qsl

from simulators.core.recorder import Redactor

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = [
    "FORMAT",
    "VERSION",
    "Trace",
    "TraceError",
    "TraceExchange",
    "TraceRewriter",
    "TraceWriter",
    "decode_body",
    "load_trace",
]

FORMAT = "scimlab-trace"
VERSION = 1
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "content-length",
    }
)


class TraceRewriter(Protocol):
    """Rewrites a SCIM exchange in place before it is written (``pseudonym.Pseudonymiser``);
    a protocol here because that module reads this one's exchanges."""

    def apply(self, x: TraceExchange) -> None:
        """Change ``x`` in place."""


class TraceError(ValueError):
    """A trace file that is not one (or not this version), or a line that is malformed."""


@dataclass
class TraceExchange:
    seq: int
    at: float
    method: str
    path: str
    status: int
    query: list[tuple[str, str]] = field(default_factory=list)
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: Any = None
    elapsed: float = 0.0
    kind: str = "scim"
    error: str | None = None

    def as_line(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "seq": self.seq,
            "at": round(self.at, 6),
            "elapsed": round(self.elapsed, 6),
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "query": [list(pair) for pair in self.query],
            "request": {"headers": self.request_headers, "body": self.request_body},
            "response": {
                "status": self.status,
                "headers": self.response_headers,
                "body": self.response_body,
            },
        }
        if self.error is not None:
            line["error"] = self.error
        return line


@dataclass
class Trace:
    header: dict[str, Any]
    exchanges: list[TraceExchange]

    @property
    def scim(self) -> list[TraceExchange]:
        """The SCIM exchanges (token requests left out), in the order they were sent."""
        return [x for x in self.exchanges if x.kind == "scim"]


def decode_body(raw: bytes, content_type: str) -> Any:
    """A body as a trace stores it: JSON when it is JSON, a form as a dict, else text."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            return json.loads(text)
        except ValueError:
            return text
    if "x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(text, keep_blank_values=True))
    return text


def _harvest(redactor: Redactor, x: TraceExchange) -> None:
    """Register the secret values this exchange carries, so they are masked everywhere."""
    for name, value in x.request_headers.items():
        if name in ("authorization", "proxy-authorization"):
            scheme, _, credential = value.partition(" ")
            redactor.add_secret(credential)
            if scheme.lower() == "basic":
                try:
                    pair = base64.b64decode(credential, validate=True).decode()
                except ValueError:
                    continue
                redactor.add_secret(pair.partition(":")[2])
        elif name == "cookie":
            for part in value.split(";"):
                redactor.add_secret(part.partition("=")[2].strip())
    for body in (x.request_body, x.response_body):
        if isinstance(body, dict):
            for key in ("client_secret", "access_token", "refresh_token", "password"):
                if isinstance(body.get(key), str):
                    redactor.add_secret(body[key])


class TraceWriter:
    """Appends exchanges to a trace file, redacted (and pseudonymised) before writing.

    Safe to call from several tasks or threads: a lock orders header and lines, and each
    line is flushed, so a recording cut short still loads up to its last exchange.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        source: str,
        base: str,
        pseudonymiser: TraceRewriter | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.stream = stream
        self.redactor = redactor or Redactor()
        self.pseudonymiser = pseudonymiser
        self.written = 0
        self._lock = threading.Lock()
        header = {
            "format": FORMAT,
            "version": VERSION,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": source,
            "base": base,
            "pseudonymised": pseudonymiser is not None,
        }
        self._write(header)

    def _write(self, line: dict[str, Any]) -> None:
        text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def write(self, x: TraceExchange) -> None:
        r = self.redactor
        _harvest(r, x)
        x.request_headers = r.redact_headers(x.request_headers.items())
        x.response_headers = r.redact_headers(x.response_headers.items())
        x.request_body, x.response_body = r.redact(x.request_body), r.redact(x.response_body)
        x.query = [
            (k, "[redacted]" if k.lower() in _SECRET_QUERY else r.redact(v)) for k, v in x.query
        ]
        x.path = r.redact(x.path)
        if x.error is not None:
            x.error = r.redact(x.error)
        if self.pseudonymiser is not None and x.kind == "scim":
            self.pseudonymiser.apply(x)
        self._write(x.as_line())
        self.written += 1


_SECRET_QUERY = frozenset({"access_token", "client_secret", "token", "api_key", "code"})


# loading ----------------------------------------------------------------------------------
def _need(line: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in line:
        raise TraceError(f"{where}: missing {key!r}")
    value = line[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise TraceError(f"{where}: {key!r} must be {names}, not {type(value).__name__}")
    return value


def _headers(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise TraceError(f"{where}: headers must be an object of strings")
    return {k.lower(): v for k, v in value.items()}


def _exchange(line: dict[str, Any], where: str) -> TraceExchange:
    seq = _need(line, "seq", int, where)
    method = _need(line, "method", str, where).upper()
    path = _need(line, "path", str, where)
    if not path.startswith("/"):
        raise TraceError(f"{where}: 'path' must start with '/'")
    query = line.get("query", [])
    if not isinstance(query, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in query
    ):
        raise TraceError(f"{where}: 'query' must be a list of [name, value] string pairs")
    request = _need(line, "request", dict, where)
    response = _need(line, "response", dict, where)
    status = _need(response, "status", int, f"{where}: response")
    if not 100 <= status <= 599:
        raise TraceError(f"{where}: response status {status} is not an HTTP status")
    kind = line.get("kind", "scim")
    if kind not in ("scim", "token"):
        raise TraceError(f"{where}: 'kind' must be 'scim' or 'token'")
    at, elapsed = line.get("at", 0.0), line.get("elapsed", 0.0)
    for name, value in (("at", at), ("elapsed", elapsed)):
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise TraceError(f"{where}: {name!r} must be a number of seconds >= 0")
    return TraceExchange(
        seq=seq,
        at=float(at),
        method=method,
        path=path,
        status=status,
        query=[(k, v) for k, v in query],
        request_headers=_headers(request.get("headers", {}), f"{where}: request"),
        request_body=request.get("body"),
        response_headers=_headers(response.get("headers", {}), f"{where}: response"),
        response_body=response.get("body"),
        elapsed=float(elapsed),
        kind=kind,
        error=line.get("error") if isinstance(line.get("error"), str) else None,
    )


def parse_trace(lines: Iterable[str], name: str = "trace") -> Trace:
    """A trace from its lines; a ``TraceError`` names the first line that is wrong."""
    header: dict[str, Any] | None = None
    exchanges: list[TraceExchange] = []
    seen: set[int] = set()
    for number, text in enumerate(lines, 1):
        where = f"{name} line {number}"
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except ValueError as error:
            raise TraceError(f"{where}: not JSON ({error})") from None
        if not isinstance(line, dict):
            raise TraceError(f"{where}: expected a JSON object")
        if header is None:
            if line.get("format") != FORMAT:
                raise TraceError(f'{where}: not a scimlab trace (no "format": "{FORMAT}")')
            if line.get("version") != VERSION:
                raise TraceError(
                    f"{where}: trace version {line.get('version')!r}; this scimlab reads {VERSION}"
                )
            header = line
            continue
        exchange = _exchange(line, where)
        if exchange.seq in seen:
            raise TraceError(f"{where}: seq {exchange.seq} appears twice")
        seen.add(exchange.seq)
        exchanges.append(exchange)
    if header is None:
        raise TraceError(f"{name}: empty file, not a scimlab trace")
    exchanges.sort(key=lambda x: x.seq)
    return Trace(header, exchanges)


def load_trace(path: Path) -> Trace:
    try:
        with path.open(encoding="utf-8") as stream:
            return parse_trace(stream, str(path))
    except UnicodeDecodeError as error:
        raise TraceError(f"{path}: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise TraceError(f"cannot read {path}: {error.strerror}") from None
