"""HTTP exchanges as reports show them: request and response, with every secret redacted.

Redaction is belt and braces: credential headers lose their value (cookies keep their names),
JSON and form fields with secret names are blanked, and every secret the run knows (client
secret, tokens, API keys) is replaced wherever it appears.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

if TYPE_CHECKING:
    from collections.abc import Iterable

    import httpx

__all__ = ["REDACTED", "Exchange", "Redactor"]

REDACTED = "[redacted]"
MAX_BODY = 6000
_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
_SECRET_FIELD = re.compile(
    r"(client_)?secret|(access_|refresh_|id_)?token|password|(admin_)?api_?key", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its response, already redacted."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int
    response_headers: dict[str, str]
    response_body: str
    elapsed_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_text(self) -> str:
        """The exchange as an HTTP transcript."""
        lines = [f"{self.method} {self.url}"]
        lines += [f"{k}: {v}" for k, v in self.request_headers.items()]
        if self.request_body:
            lines += ["", self.request_body]
        lines += ["", f"HTTP {self.status}"]
        lines += [f"{k}: {v}" for k, v in self.response_headers.items()]
        if self.response_body:
            lines += ["", self.response_body]
        return "\n".join(lines)


class Redactor:
    """Knows the run's secrets and blanks them out of anything that will be written down."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def learn(self, payload: Any) -> None:
        """Remember secret-named values of a JSON payload (new secrets, issued tokens)."""
        if isinstance(payload, dict):
            for key, value in payload.items():
                if isinstance(value, str) and _SECRET_FIELD.fullmatch(key):
                    self.add(value)
                else:
                    self.learn(value)
        elif isinstance(payload, list):
            for item in payload:
                self.learn(item)

    def text(self, value: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            value = value.replace(secret, REDACTED)
        return value

    def headers(self, headers: httpx.Headers) -> dict[str, str]:
        shown: dict[str, str] = {}
        for key, value in headers.multi_items():
            lower = key.lower()
            if lower == "cookie":  # names kept: which cookies a browser sent is evidence
                blanked = "; ".join(_blank_cookie(c) for c in value.split(";"))
            elif lower == "set-cookie":
                pair, _, attributes = value.partition(";")
                blanked = _blank_cookie(pair) + (f";{attributes}" if attributes else "")
            elif lower in _SECRET_HEADERS:
                scheme = value.split(" ", 1)[0] if " " in value else ""
                blanked = f"{scheme} {REDACTED}".strip()
            else:
                blanked = self.text(value)
            shown[key] = f"{shown[key]}, {blanked}" if key in shown else blanked
        return shown

    def body(self, raw: bytes, content_type: str) -> str:
        if not raw:
            return ""
        text = raw.decode("utf-8", errors="replace")
        if "json" in content_type:
            with contextlib.suppress(ValueError):
                text = json.dumps(_blank(json.loads(text)), indent=2, ensure_ascii=False)
        elif "x-www-form-urlencoded" in content_type:
            pairs = parse_qsl(text, keep_blank_values=True)
            text = urlencode([(k, REDACTED if _SECRET_FIELD.fullmatch(k) else v) for k, v in pairs])
        text = self.text(text)
        if len(text) > MAX_BODY:
            text = text[:MAX_BODY] + f"\n... ({len(text) - MAX_BODY} more characters)"
        return text

    def exchange(self, response: httpx.Response, elapsed_ms: float) -> Exchange:
        request = response.request
        return Exchange(
            method=request.method,
            url=self.text(str(request.url)),
            request_headers=self.headers(request.headers),
            request_body=self.body(request.content, request.headers.get("content-type", "")),
            status=response.status_code,
            response_headers=self.headers(response.headers),
            response_body=self.body(response.content, response.headers.get("content-type", "")),
            elapsed_ms=round(elapsed_ms, 1),
        )


def _blank_cookie(pair: str) -> str:
    """``name=value`` as ``name=[redacted]`` (an empty value, a deletion, stays empty)."""
    name, _, value = pair.strip().partition("=")
    shown = REDACTED if value.strip('"') else value
    return f"{name}={shown}"


def _blank(payload: Any) -> Any:
    if isinstance(payload, dict):
        return {
            k: REDACTED if isinstance(v, str) and _SECRET_FIELD.fullmatch(k) else _blank(v)
            for k, v in payload.items()
        }
    if isinstance(payload, list):
        return [_blank(item) for item in payload]
    return payload
