"""What the /Users and /Groups operations share: locations, PATCH reading and the answers
that carry a resource or a page of them (RFC 7644 §3.4.2, §3.5.2)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from scim2_models import Context, ListResponse, PatchOp, ResponseParameters

from server.mapping.inbound import accepted_patch
from server.mapping.schema import SCIM_POLICY
from server.mapping.user_wire import list_payload
from server.scim.operations.exchange import ScimRequestError, json_answer

if TYPE_CHECKING:
    from uuid import UUID

    from scim2_models import Resource

    from server.mapping.inbound import Profile
    from server.scim.operations.exchange import ScimAnswer
    from server.services import Services

__all__ = [
    "list_answer",
    "list_body",
    "location",
    "payload_answer",
    "payload_list_answer",
    "read_patch",
    "resource_answer",
]

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def location(services: Services, practice_id: UUID, kind: str, resource_id: UUID) -> str:
    return f"{services.settings.scim_base_url(str(practice_id))}/{kind}/{resource_id}"


def read_patch(body: dict[str, Any], profile: Profile, model: Any) -> PatchOp[Any] | None:
    """The PatchOp of a body, keeping operations on accepted attributes only; None when every
    operation targeted attributes the platform ignores (the request still succeeds)."""
    schemas = next((v for k, v in body.items() if k.lower() == "schemas"), None)
    if not isinstance(schemas, list) or PATCH_SCHEMA.lower() not in {
        str(s).lower() for s in schemas
    }:
        raise ScimRequestError(400, f"schemas must list {PATCH_SCHEMA}", "invalidSyntax")
    operations = next((v for k, v in body.items() if k.lower() == "operations"), None)
    if not isinstance(operations, list) or not operations:
        raise ScimRequestError(400, "Operations must be a non-empty list", "invalidSyntax")
    accepted = accepted_patch(body, profile)
    if not accepted["Operations"]:
        return None
    result: PatchOp[Any] = PatchOp[model].model_validate(
        accepted, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=SCIM_POLICY
    )
    return result


@cache
def _list_response(kind: Any) -> Any:
    """``ListResponse[kind]``: parametrising a pydantic generic costs more than using it."""
    return ListResponse[kind]


def list_body(
    kind: Any,
    *,
    total: int,
    offset: int,
    resources: list[Any],
    parameters: ResponseParameters[Any] | None,
    next_cursor: str | None = None,
    previous_cursor: str | None = None,
    cursor_paged: bool = False,
) -> dict[str, Any]:
    """A ListResponse page (RFC 7644 §3.4.2): integer counters, 1-based startIndex; a cursor
    page (RFC 9865) has ``nextCursor`` (except the last), ``previousCursor`` (except the
    first) and no ``startIndex``."""
    listing = _list_response(kind)(
        total_results=total,
        start_index=None if cursor_paged else offset + 1,
        items_per_page=len(resources),
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        resources=resources,
    )
    body: dict[str, Any] = listing.model_dump(
        scim_ctx=Context.SEARCH_RESPONSE, response_parameters=parameters
    )
    return body


def list_answer(
    kind: Any,
    *,
    total: int,
    offset: int,
    resources: list[Any],
    parameters: ResponseParameters[Any] | None,
    next_cursor: str | None = None,
    previous_cursor: str | None = None,
    cursor_paged: bool = False,
) -> ScimAnswer:
    page = list_body(
        kind,
        total=total,
        offset=offset,
        resources=resources,
        parameters=parameters,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        cursor_paged=cursor_paged,
    )
    return json_answer(page)


def payload_list_answer(
    *,
    total: int,
    offset: int,
    payloads: list[dict[str, Any]],
    next_cursor: str | None = None,
    previous_cursor: str | None = None,
    cursor_paged: bool = False,
) -> ScimAnswer:
    """A ListResponse page whose resources are already response bodies."""
    body = list_payload(total=total, start_index=offset + 1, resources=payloads)
    if cursor_paged:
        del body["startIndex"]
        if next_cursor is not None:
            body["nextCursor"] = next_cursor
        if previous_cursor is not None:
            body["previousCursor"] = previous_cursor
    return json_answer(body)


def _headers(etag: str, created_at: str | None) -> tuple[tuple[str, str], ...]:
    if created_at is None:
        return (("ETag", etag),)
    return (("ETag", etag), ("Location", created_at))


def payload_answer(
    payload: dict[str, Any], *, etag: str, status: int = 200, created_at: str | None = None
) -> ScimAnswer:
    return json_answer(payload, status=status, headers=_headers(etag, created_at))


def resource_answer(
    resource: Resource[Any],
    *,
    etag: str,
    context: Context,
    parameters: ResponseParameters[Any] | None,
    status: int = 200,
    created_at: str | None = None,
) -> ScimAnswer:
    payload = resource.model_dump(scim_ctx=context, response_parameters=parameters)
    return json_answer(payload, status=status, headers=_headers(etag, created_at))
