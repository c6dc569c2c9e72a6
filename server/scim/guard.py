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

from server.auth.service import AuthError
from server.security import parse_basic_credentials
from server.services import Services

__all__ = ["authenticated_practice"]


async def authenticated_practice(
    request: Request[Any, Any, Any],
    practice_id: FromPath[UUID],
    services: NamedDependency[Services],
) -> UUID:
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer" and credential:
        return await services.tokens.practice_for_bearer(credential, practice_id)
    try:
        basic = parse_basic_credentials(header)
    except ValueError as error:
        raise AuthError(str(error), error="invalid_client") from None
    if basic is not None:
        return await services.tokens.practice_for_basic(basic[0], basic[1], practice_id)
    raise AuthError("authentication required", error="invalid_request")
