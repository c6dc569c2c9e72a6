"""Every failure on a SCIM route becomes an RFC 7644 §3.12 error body, never a traceback."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from litestar.exceptions import HTTPException
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
from server.scim.responses import scim_error

if TYPE_CHECKING:
    from litestar import Request, Response
    from litestar.types import ExceptionHandlersMap

__all__ = ["SCIM_EXCEPTION_HANDLERS", "ScimRequestError"]

logger = logging.getLogger("scimlab.scim")


class ScimRequestError(Exception):
    """A request the edge refuses before any service runs (RFC 7644 §3.12)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type


_DOMAIN_STATUS: tuple[tuple[type[DomainError], int, str | None], ...] = (
    (NotFound, 404, None),
    (UniquenessConflict, 409, "uniqueness"),
    (PreconditionFailed, 412, None),
    (ConfigurationDisabled, 403, None),
    (InvalidValue, 400, "invalidValue"),
)


def _request_error(_: Request[Any, Any, Any], exc: ScimRequestError) -> Response[Any]:
    return scim_error(exc.status, _plain(exc.detail), scim_type=exc.scim_type)


def _domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    for kind, status, scim_type in _DOMAIN_STATUS:
        if isinstance(exc, kind):
            return scim_error(status, exc.detail, scim_type=scim_type)
    return scim_error(400, exc.detail, scim_type="invalidValue")


def _scim_exception(_: Request[Any, Any, Any], exc: SCIMException) -> Response[Any]:
    error = exc.to_error()
    return scim_error(error.status or 400, error.detail or exc.detail, scim_type=error.scim_type)


def _plain(detail: str) -> str:
    """pydantic appends a documentation link to some messages; clients need only the message."""
    return detail.split("\n    For further information", 1)[0].strip()


def _validation_error(_: Request[Any, Any, Any], exc: ValidationError) -> Response[Any]:
    errors = Error.from_validation_errors(exc)
    first = errors[0] if errors else Error(status=400, scim_type="invalidValue", detail=str(exc))
    detail = "; ".join(_plain(e.detail or "") for e in errors[:5]) or "invalid request"
    return scim_error(first.status or 400, detail, scim_type=first.scim_type or "invalidValue")


def _auth_error(_: Request[Any, Any, Any], exc: AuthError) -> Response[Any]:
    # RFC 6750 §3: no error code when the request carried no credential at all.
    challenge = 'Bearer realm="scim"'
    if exc.error == "invalid_client":
        challenge = 'Basic realm="scim"'
    elif exc.error != "invalid_request":
        challenge = f'Bearer realm="scim", error="{exc.error}"'
    return scim_error(exc.status, exc.description, headers={"WWW-Authenticate": challenge})


def _http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    detail = exc.detail if isinstance(exc.detail, str) else "request refused"
    return scim_error(exc.status_code, detail, headers=dict(exc.headers or {}))


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    request_id = current_request_id()
    logger.error(
        "unhandled error on %s %s (request %s)",
        request.method,
        request.url.path,
        request_id,
        exc_info=exc,
    )
    return scim_error(500, f"internal error; request id {request_id}")


SCIM_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ScimRequestError: _request_error,
    DomainError: _domain_error,
    SCIMException: _scim_exception,
    ValidationError: _validation_error,
    AuthError: _auth_error,
    HTTPException: _http_exception,
    Exception: _unexpected,
}
