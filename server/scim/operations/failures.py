"""Every failure of a SCIM operation as its RFC 7644 §3.12 error answer, never a traceback.

Domain errors, credential errors, refused requests and scim2-models' validation errors each
have their status and ``scimType``; anything else is logged and answered a bare 500 that
names the request id. ``server.scim.errors`` answers the other SCIM routes with the same
bodies.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from pydantic import ValidationError
from scim2_models import Error, SCIMException

from server.auth.service import AuthError
from server.domain.errors import (
    ConfigurationDisabled,
    DomainError,
    InvalidValue,
    NotFound,
    PreconditionFailed,
    UniquenessConflict,
)
from server.ops.context import current_request_id
from server.persistence.availability import DRIVER_ERROR_TYPES, is_refused_text, is_unavailable
from server.scim.operations.exchange import ScimAnswer, ScimRequestError

__all__ = [
    "RETRY_AFTER_SECONDS",
    "database_failure",
    "error_body",
    "failure",
    "known_failure",
    "unexpected",
]

logger = logging.getLogger("scimlab.scim")
fault_logger = logging.getLogger("scimlab.faults")
RETRY_AFTER_SECONDS = 5
UNAVAILABLE = "the database is unavailable; retry later"
REFUSED_TEXT = "text may not contain U+0000 (NUL)"


_DOMAIN_STATUS: tuple[tuple[type[DomainError], int, str | None], ...] = (
    (NotFound, 404, None),
    (UniquenessConflict, 409, "uniqueness"),
    (PreconditionFailed, 412, None),
    (ConfigurationDisabled, 403, None),
    (InvalidValue, 400, "invalidValue"),
)

#: An error: (status, detail, scimType, extra headers).
Failure = tuple[int, str, str | None, tuple[tuple[str, str], ...]]


def error_body(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    """RFC 7644 §3.12: ``status`` as a string, ``scimType`` only where the RFC defines one."""
    return Error(status=status, scim_type=scim_type, detail=detail).model_dump()


def _plain(detail: str) -> str:
    """pydantic appends a documentation link to some messages; clients need only the message."""
    return detail.split("\n    For further information", 1)[0].strip()


def _auth(error: AuthError) -> Failure:
    # RFC 6750 §3: no error code when the request carried no credential at all.
    challenge = 'Bearer realm="scim"'
    if error.error == "invalid_client":
        challenge = 'Basic realm="scim"'
    elif error.error != "invalid_request":
        challenge = f'Bearer realm="scim", error="{error.error}"'
    return error.status, error.description, None, (("WWW-Authenticate", challenge),)


def known_failure(error: Exception) -> Failure | None:
    """The error answer of a failure this service expects; None for anything else."""
    if isinstance(error, ScimRequestError):
        return error.status, _plain(error.detail), error.scim_type, ()
    if isinstance(error, DomainError):
        for kind, status, scim_type in _DOMAIN_STATUS:
            if isinstance(error, kind):
                return status, error.detail, scim_type, ()
        return 400, error.detail, "invalidValue", ()
    if isinstance(error, AuthError):
        return _auth(error)
    if isinstance(error, SCIMException):
        found = error.to_error()
        return found.status or 400, found.detail or error.detail, found.scim_type, ()
    if isinstance(error, ValidationError):
        errors = Error.from_validation_errors(error)
        first = errors[0] if errors else Error(status=400, scim_type="invalidValue")
        detail = "; ".join(_plain(e.detail or "") for e in errors[:5]) or "invalid request"
        return first.status or 400, detail, first.scim_type or "invalidValue", ()
    return None


def database_failure(error: Exception, method: str, path: str) -> tuple[int, str] | None:
    """A driver error as (status, detail), logged; None for any other error. A transient
    outage (connection lost or refused, a timeout, a conflict) is 503; text the database
    refuses (U+0000) that no check caught is the request's fault, 400; the rest a 500."""
    if not isinstance(error, DRIVER_ERROR_TYPES):
        return None
    if is_refused_text(error):
        fault_logger.warning("text the database refuses on %s %s", method, path)
        return 400, REFUSED_TEXT
    if is_unavailable(error):
        name = type(error).__name__
        fault_logger.warning("database unavailable on %s %s", method, path, extra={"error": name})
        return 503, UNAVAILABLE
    fault_logger.error("unhandled database error on %s %s", method, path, exc_info=error)
    return 500, f"internal error; request id {current_request_id()}"


def unexpected(error: Exception, method: str, path: str) -> Failure:
    request_id = current_request_id()
    logger.error("unhandled error on %s %s (request %s)", method, path, request_id, exc_info=error)
    return 500, f"internal error; request id {request_id}", None, ()


def _fault(error: Exception, method: str, path: str) -> Failure:
    fault = database_failure(error, method, path)
    if fault is None:
        return unexpected(error, method, path)
    status, detail = fault
    if status == 503:
        return status, detail, None, (("Retry-After", str(RETRY_AFTER_SECONDS)),)
    return status, detail, "invalidValue" if status == 400 else None, ()


def failure(error: Exception, method: str, path: str) -> ScimAnswer:
    """The answer to an operation that raised ``error``."""
    status, detail, scim_type, headers = known_failure(error) or _fault(error, method, path)
    body = msgspec.json.encode(error_body(status, detail, scim_type))
    return ScimAnswer(status, headers, body)
