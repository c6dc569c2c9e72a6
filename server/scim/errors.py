"""Every failure on a SCIM route outside an operation (discovery, the root ``.search``, a
refused body, an unmatched path) becomes an RFC 7644 §3.12 error body, never a traceback:
the same bodies as the operations' own (``server.scim.operations.failures``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.exceptions import HTTPException

from server.scim.adapter import to_response
from server.scim.operations.exchange import ScimRequestError, json_answer
from server.scim.operations.failures import error_body, failure

if TYPE_CHECKING:
    from litestar import Request, Response
    from litestar.types import ExceptionHandlersMap

    from server.scim.operations.exchange import ScimAnswer

__all__ = ["SCIM_EXCEPTION_HANDLERS", "ScimRequestError", "exception_answer"]


def exception_answer(error: Exception, method: str, path: str) -> ScimAnswer:
    """The error answer to ``error``: a Litestar ``HTTPException`` (a refused body, say) with
    its own status, anything else as an operation answers it."""
    if isinstance(error, HTTPException):
        detail = error.detail if isinstance(error.detail, str) else "request refused"
        headers = tuple((error.headers or {}).items())
        body = error_body(error.status_code, detail)
        return json_answer(body, status=error.status_code, headers=headers)
    return failure(error, method, path)


def _handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return to_response(exception_answer(exc, request.method, request.url.path))


SCIM_EXCEPTION_HANDLERS: ExceptionHandlersMap = {Exception: _handle}
