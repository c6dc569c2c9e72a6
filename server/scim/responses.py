"""SCIM responses: ``application/scim+json`` bodies and RFC 7644 §3.12 error bodies."""

from __future__ import annotations

from typing import Any

from litestar import Response

from server.scim.operations.exchange import SCIM_MEDIA_TYPE
from server.scim.operations.failures import error_body

__all__ = ["SCIM_MEDIA_TYPE", "scim_error", "scim_response"]


def scim_response(
    payload: dict[str, Any] | None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    return Response(
        content=payload,
        status_code=status,
        media_type=SCIM_MEDIA_TYPE,
        headers=headers or {},
    )


def scim_error(
    status: int,
    detail: str,
    *,
    scim_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """RFC 7644 §3.12: ``status`` as a string, ``scimType`` only where the RFC defines one."""
    return scim_response(error_body(status, detail, scim_type), status=status, headers=headers)
