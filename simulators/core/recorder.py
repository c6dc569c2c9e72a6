"""A record of every exchange, secrets redacted before anything is stored.

Redaction is by name (``Authorization`` headers, ``client_secret``, ``access_token``,
``password`` … anywhere in a JSON or form body) and by value: every credential the run
knows is registered, and any string containing one is masked wherever it appears.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["REDACTED", "SECRET_HEADERS", "SECRET_KEYS", "Exchange", "Recorder", "Redactor"]

REDACTED = "[redacted]"
SECRET_KEYS = frozenset(
    {"access_token", "refresh_token", "client_secret", "password", "token", "secret", "api_key"}
)
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


@dataclass
class Exchange:
    seq: int
    at: float
    label: str
    method: str
    url: str
    status: int | None
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: Any = None
    error: str | None = None
    subject: str | None = None
    step: str | None = None
    cycle: int | None = None
    attempt: int = 1
    injected: bool = False
    elapsed: float = 0.0

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "")


class Redactor:
    """Masks secrets by name (headers, JSON and form keys) and by value (registered ones).

    The simulators' recorder and the trace writers (``scimlab record``, the server's own
    recording) share it, so one rule decides what never reaches a file.
    """

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._longest_first: tuple[str, ...] = ()

    def add_secret(self, value: str | None) -> None:
        if value and len(value) >= 4 and value not in self._secrets:
            self._secrets.add(value)
            # Sorted once here, not for every string of every exchange (a long run masks
            # hundreds of thousands of strings); longest first so a secret that contains
            # another is masked whole.
            self._longest_first = tuple(sorted(self._secrets, key=len, reverse=True))

    # redaction ---------------------------------------------------------------------------
    def _mask(self, text: str) -> str:
        for secret in self._longest_first:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def redact(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: (REDACTED if str(k).lower() in SECRET_KEYS else self.redact(v))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.redact(v) for v in value]
        if isinstance(value, str):
            return self._mask(value)
        return value

    def redact_headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            if key in SECRET_HEADERS:
                scheme = value.split(" ", 1)[0] if " " in value else ""
                out[key] = f"{scheme} {REDACTED}".strip()
            else:
                out[key] = self._mask(value)
        return out

    def body(self, raw: bytes, content_type: str) -> Any:
        """A body as stored: parsed JSON or form, else text; always redacted."""
        if not raw:
            return None
        text = raw.decode("utf-8", errors="replace")
        if "json" in content_type:
            try:
                return self.redact(json.loads(text))
            except ValueError:
                return self._mask(text)
        if "x-www-form-urlencoded" in content_type:
            return self.redact(dict(parse_qsl(text, keep_blank_values=True)))
        return self._mask(text)


class Recorder(Redactor):
    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[Exchange] = []
        self.step: str | None = None
        self.cycle: int | None = None

    # recording ---------------------------------------------------------------------------
    def record(self, **fields: Any) -> Exchange:
        exchange = Exchange(seq=len(self.exchanges) + 1, step=self.step, cycle=self.cycle, **fields)
        exchange.url = self._mask(exchange.url)
        self.exchanges.append(exchange)
        return exchange

    def select(
        self,
        *,
        label: str | None = None,
        method: str | None = None,
        step: str | None = None,
        subject: str | None = None,
        path: str | None = None,
        include_injected: bool = True,
    ) -> list[Exchange]:
        out = []
        for e in self.exchanges:
            if label is not None and not fnmatch.fnmatchcase(e.label, label):
                continue
            if method is not None and not fnmatch.fnmatchcase(e.method, method.upper()):
                continue
            if step is not None and e.step != step:
                continue
            if subject is not None and e.subject != subject:
                continue
            if path is not None and not fnmatch.fnmatchcase(e.url.split("?", 1)[0], f"*{path}"):
                continue
            if e.injected and not include_injected:
                continue
            out.append(e)
        return out

    # output ------------------------------------------------------------------------------
    def as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(e) for e in self.exchanges]

    def write_transcript(self, path: Path) -> None:
        path.write_text(self.transcript(), encoding="utf-8")

    def transcript(self) -> str:
        """Every exchange, in order, as readable text (secrets already redacted)."""
        lines: list[str] = []
        for e in self.exchanges:
            where = " ".join(
                p
                for p in (
                    f"step={e.step}" if e.step else "",
                    f"cycle={e.cycle}" if e.cycle is not None else "",
                    f"subject={e.subject}" if e.subject else "",
                    "INJECTED" if e.injected else "",
                )
                if p
            )
            outcome = str(e.status) if e.status is not None else f"error: {e.error}"
            lines.append(f"#{e.seq} t={e.at:.3f}s {e.label} attempt={e.attempt} {where}")
            lines.append(f">>> {e.method} {e.url}")
            lines.extend(f">>> {k}: {v}" for k, v in e.request_headers.items())
            if e.request_body is not None:
                lines.append(_pretty(e.request_body, ">>> "))
            lines.append(f"<<< {outcome} ({e.elapsed * 1000:.1f} ms)")
            lines.extend(f"<<< {k}: {v}" for k, v in e.response_headers.items())
            if e.response_body is not None:
                lines.append(_pretty(e.response_body, "<<< "))
            lines.append("")
        return "\n".join(lines)


def _pretty(body: Any, prefix: str) -> str:
    text = body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False)
    return "\n".join(prefix + line for line in text.splitlines())
