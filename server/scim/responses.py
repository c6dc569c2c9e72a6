"""SCIM responses: ``application/scim+json`` bodies and RFC 7644 §3.12 error bodies."""

from __future__ import annotations

from typing import Any

from litestar import Response
from scim2_models import Error

__all__ = ["SCIM_MEDIA_TYPE", "scim_error", "scim_response"]

SCIM_MEDIA_TYPE = "application/scim+json"


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
    error = Error(status=status, scim_type=scim_type, detail=detail)
    return scim_response(error.model_dump(), status=status, headers=headers)
