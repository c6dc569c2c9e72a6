"""What every operation checks and honours: the credential (RFC 6750 §2.1, RFC 7617), the
preconditions (RFC 7232 §3.1-§3.2, RFC 7644 §3.14), ``Prefer: return=minimal`` (RFC 7240)
and the attribute selection of a response (RFC 7644 §3.4.2.5)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from server.auth.service import AuthError
from server.domain.account_keys import UserNameKey
from server.domain.errors import NotFound, PreconditionFailed
from server.domain.provisioning import parse_user_id
from server.mapping.filters import user_name_equality
from server.persistence import account_read_ahead
from server.scim.operations.exchange import json_answer
from server.scim.operations.failures import failure
from server.scim.query import response_parameters
from server.scim.requests import entity_versions
from server.security import parse_basic_credentials

if TYPE_CHECKING:
    from uuid import UUID

    from scim2_models import ResponseParameters

    from server.domain.account_keys import AccountKey
    from server.scim.operations.exchange import ScimAnswer, ScimRequest
    from server.services import Services

__all__ = [
    "authenticate",
    "check_if_none_match",
    "if_match",
    "linking_operation",
    "not_modified",
    "operation",
    "selection",
    "user_operation",
    "user_search_operation",
    "wants_minimal",
]


async def authenticate(
    services: Services,
    authorization: str,
    practice_id: UUID,
    account: AccountKey | None = None,
    *,
    sso_config: bool = False,
) -> UUID:
    """The practice the credential acts for; it must be the practice in the URL. Of several
    ``Authorization`` headers the first counts. ``account``: the user the operation reads
    first (by id or by userName), or ``sso_config``: it reads the practice's SSO
    configuration first; read with a bearer token's check where the store can."""
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer" and credential:
        return await services.tokens.practice_for_bearer(
            credential, practice_id, account=account, sso_config=sso_config
        )
    try:
        basic = parse_basic_credentials(authorization)
    except ValueError as error:
        raise AuthError(str(error), error="invalid_client") from None
    if basic is not None:
        return await services.tokens.practice_for_basic(basic[0], basic[1], practice_id)
    raise AuthError("authentication required", error="invalid_request")


def if_match(request: ScimRequest) -> frozenset[int] | None:
    return entity_versions(request.header("if-match"))


def _none_match(request: ScimRequest, version: int) -> bool:
    header = request.header("if-none-match")
    if header is None:
        return False
    if header.strip() == "*":
        return True
    versions = entity_versions(header)
    return versions is not None and version in versions


def not_modified(request: ScimRequest, version: int, etag: str) -> ScimAnswer | None:
    """RFC 7232 §3.2 on reads: the client's copy is current, so 304 with no body."""
    if _none_match(request, version):
        return json_answer(None, status=304, headers=(("ETag", etag),))
    return None


def check_if_none_match(request: ScimRequest, version: int) -> None:
    """RFC 7232 §3.2 on writes: a matching If-None-Match makes the write fail (412)."""
    if _none_match(request, version):
        raise PreconditionFailed("If-None-Match matches the current version")


def wants_minimal(request: ScimRequest) -> bool:
    """RFC 7240 ``Prefer: return=minimal``: the client asked for no content."""
    return "return=minimal" in (request.header("prefer") or "").replace(" ", "").lower()


def selection(request: ScimRequest) -> ResponseParameters[Any] | None:
    """``attributes`` / ``excludedAttributes`` of the query; None when it names neither."""
    if not request.query:
        return None
    return response_parameters(request.query_params())


Operation = Callable[["Services", "ScimRequest"], Awaitable["ScimAnswer"]]
Body = Callable[["Services", "UUID", "ScimRequest"], Awaitable["ScimAnswer"]]
#: The account an operation reads first, named from the request before its credential is
#: checked (never raising: the operation's own errors come after the credential's).
Reads = Callable[["ScimRequest"], "AccountKey | None"]


def _operation(body: Body, reads: Reads | None, *, reads_sso_config: bool = False) -> Operation:
    @wraps(body)
    async def run(services: Services, request: ScimRequest) -> ScimAnswer:
        try:
            authorization = request.header("authorization") or ""
            account = reads(request) if reads is not None else None
            practice = await authenticate(
                services, authorization, request.practice_id, account, sso_config=reads_sso_config
            )
            return await body(services, practice, request)
        except Exception as error:  # every failure is answered; none escapes
            return failure(error, request.method, request.path)
        finally:
            account_read_ahead.forget()  # what the body did not take is not for a later one

    return run


def _user_in_path(request: ScimRequest) -> UUID | None:
    """The user id in the path; ``None`` when it is none (the operation answers 404)."""
    try:
        return parse_user_id(request.path_params["user_id"])
    except NotFound:
        return None


def _user_in_filter(request: ScimRequest) -> UserNameKey | None:
    """The userName a search's ``userName eq`` filter names; ``None`` for any other query
    (the operation parses the query in full once the credential is checked)."""
    user_name = user_name_equality(request.query_params().get("filter"))
    return None if user_name is None else UserNameKey.of(user_name)


def operation(body: Body) -> Operation:
    """An operation: the credential checked first, then ``body`` for the practice it acts
    for; whatever either raises becomes its error answer (``failures.failure``)."""
    return _operation(body, None)


def user_operation(body: Body) -> Operation:
    """An ``operation`` on ``/Users/{user_id}`` that reads that user first: the credential's
    check reads it too where the store can (one statement instead of two on PostgreSQL)."""
    return _operation(body, _user_in_path)


def user_search_operation(body: Body) -> Operation:
    """An ``operation`` listing ``/Users`` whose filter may name one user by userName
    (``server.scim.query.user_name_lookup``): the credential's check reads that user too
    where the store can, as it does for ``user_operation``."""
    return _operation(body, _user_in_filter)


def linking_operation(body: Body) -> Operation:
    """An ``operation`` that reads the practice's SSO configuration first (a create, to link
    the new account to its IdP identity): the credential's check reads it too where the
    store can."""
    return _operation(body, None, reads_sso_config=True)
