"""Who is calling: the credential on a SCIM request must belong to the practice in its URL.

Accepted (RFC 6750 §2.1 and RFC 7617): ``Authorization: Bearer`` with an OAuth or static
token, and ``Authorization: Basic`` with the SCIM client id and secret.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromPath

from server.scim.operations.conditions import authenticate
from server.services import Services

__all__ = ["authenticated_practice"]


async def authenticated_practice(
    request: Request[Any, Any, Any],
    practice_id: FromPath[UUID],
    services: NamedDependency[Services],
) -> UUID:
    """The dependency of the SCIM routes outside the operations (discovery, the root
    ``.search``): the same check as every operation's."""
    return await authenticate(services, request.headers.get("authorization", ""), practice_id)
