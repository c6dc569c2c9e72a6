"""The request id: one per HTTP request, carried in a context variable for the logs."""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

__all__ = ["accept_request_id", "current_request_id", "request_id_var"]

request_id_var: ContextVar[str | None] = ContextVar("scimlab_request_id", default=None)

# A caller's own id is kept only if it is short and plain (no log or header injection).
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def accept_request_id(offered: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is safe to echo, else a new random id."""
    if offered and _SAFE_ID.match(offered):
        return offered
    return secrets.token_hex(16)


def current_request_id() -> str:
    """The id of the request being handled (a fresh one outside any request)."""
    return request_id_var.get() or secrets.token_hex(16)
