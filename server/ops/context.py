"""The request id and the client address: one per HTTP request, carried in context
variables for the logs and the audit log."""

from __future__ import annotations

import random
import re
from contextvars import ContextVar

__all__ = [
    "accept_request_id",
    "client_address_var",
    "current_client_address",
    "current_request_id",
    "request_id_var",
]

request_id_var: ContextVar[str | None] = ContextVar("scimlab_request_id", default=None)
#: The client's address as the edge resolved it (``server.ops.proxies``).
client_address_var: ContextVar[str | None] = ContextVar("scimlab_client_address", default=None)

# A caller's own id is kept only if it is short and plain (no log or header injection).
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def accept_request_id(offered: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is safe to echo, else a new random id."""
    if offered and _SAFE_ID.match(offered):
        return offered
    return new_request_id()


def new_request_id() -> str:
    """128 random bits in hex. An id needs to be unique, not unguessable: the Mersenne
    Twister (reseeded in every forked process) costs a fraction of an ``os.urandom`` call,
    which was a visible share of a request."""
    return f"{random.getrandbits(128):032x}"


def current_request_id() -> str:
    """The id of the request being handled (a fresh one outside any request)."""
    return request_id_var.get() or new_request_id()


def current_client_address() -> str | None:
    """The address of the client whose request is being handled (None outside a request)."""
    return client_address_var.get()
