"""Database faults become 503 with the endpoint's own error body, never a 500 with a trace.

Registered on the app for the driver error types; a per-instance check
(``server.persistence.availability.is_unavailable``) tells a transient outage (connection
lost or refused, statement, lock or busy timeout, conflicts) from a bug, which is still
answered as a bare 500 with the request id and logged with its trace. Text PostgreSQL
cannot hold (U+0000), should a value reach a query unchecked, is the request's fault: 400.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Response

from server.ops.context import current_request_id
from server.persistence.availability import DRIVER_ERROR_TYPES
from server.scim.operations.failures import REFUSED_TEXT, RETRY_AFTER_SECONDS, database_failure
from server.scim.responses import scim_error

if TYPE_CHECKING:
    from litestar import Request
    from litestar.types import ExceptionHandlersMap

__all__ = ["FAULT_HANDLERS", "RETRY_AFTER_SECONDS"]


def _respond(request: Request[Any, Any, Any], status: int, detail: str) -> Response[Any]:
    path = request.url.path
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else {}
    if path.startswith("/scim/"):
        return scim_error(status, detail, headers=headers)
    if path.startswith("/oauth/"):
        code = "temporarily_unavailable" if status == 503 else "server_error"
        return Response(
            {"error": code, "error_description": detail},
            status_code=status,
            headers={**headers, "Cache-Control": "no-store", "Pragma": "no-cache"},
            media_type="application/json",
        )
    return Response({"status_code": status, "detail": detail}, status_code=status, headers=headers)


def _refused_text(request: Request[Any, Any, Any]) -> Response[Any]:
    """Text PostgreSQL's ``text`` cannot hold (U+0000) that no check before the query caught:
    the request is at fault, so 400 in the endpoint's own error shape (RFC 7644 §3.12,
    RFC 6749 §5.2)."""
    detail = REFUSED_TEXT
    path = request.url.path
    if path.startswith("/scim/"):
        return scim_error(400, detail, scim_type="invalidValue")
    if path.startswith("/oauth/"):
        return Response(
            {"error": "invalid_request", "error_description": detail},
            status_code=400,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
            media_type="application/json",
        )
    return Response({"status_code": 400, "detail": detail}, status_code=400)


def database_fault(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    fault = database_failure(exc, request.method, request.url.path)
    status, detail = fault or (500, f"internal error; request id {current_request_id()}")
    if status == 400:
        return _refused_text(request)
    return _respond(request, status, detail)


FAULT_HANDLERS: ExceptionHandlersMap = dict.fromkeys(DRIVER_ERROR_TYPES, database_fault)
