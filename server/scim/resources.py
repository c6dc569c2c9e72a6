"""What the /Users and /Groups edges share: locations, preconditions, PATCH reading and
resource responses (RFC 7644 §3.5.2, §3.14; RFC 7232)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from scim2_models import Context, ListResponse, PatchOp, ResponseParameters

from server.domain.errors import PreconditionFailed
from server.mapping.inbound import accepted_patch
from server.mapping.schema import SCIM_POLICY
from server.mapping.user_wire import list_payload
from server.scim.errors import ScimRequestError
from server.scim.requests import entity_versions
from server.scim.responses import scim_response

if TYPE_CHECKING:
    from uuid import UUID

    from litestar import Request, Response
    from scim2_models import Resource

    from server.mapping.inbound import Profile
    from server.services import Services

__all__ = [
    "check_if_none_match",
    "if_match",
    "list_page",
    "location",
    "not_modified",
    "payload_page",
    "payload_response",
    "read_patch",
    "resource_response",
    "wants_minimal",
]

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def location(services: Services, practice_id: UUID, kind: str, resource_id: UUID) -> str:
    return f"{services.settings.scim_base_url(str(practice_id))}/{kind}/{resource_id}"


def if_match(request: Request[Any, Any, Any]) -> frozenset[int] | None:
    return entity_versions(request.headers.get("if-match"))


def _none_match(request: Request[Any, Any, Any], version: int) -> bool:
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    if header.strip() == "*":
        return True
    versions = entity_versions(header)
    return versions is not None and version in versions


def not_modified(request: Request[Any, Any, Any], version: int, etag: str) -> Response[Any] | None:
    """RFC 7232 §3.2 on reads: the client's copy is current, so 304 with no body."""
    if _none_match(request, version):
        return scim_response(None, status=304, headers={"ETag": etag})
    return None


def check_if_none_match(request: Request[Any, Any, Any], version: int) -> None:
    """RFC 7232 §3.2 on writes: a matching If-None-Match makes the write fail (412)."""
    if _none_match(request, version):
        raise PreconditionFailed("If-None-Match matches the current version")


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


def wants_minimal(request: Request[Any, Any, Any]) -> bool:
    """RFC 7240 ``Prefer: return=minimal``: the client asked for no content."""
    return "return=minimal" in request.headers.get("prefer", "").replace(" ", "").lower()


@cache
def _list_response(kind: Any) -> Any:
    """``ListResponse[kind]``: parametrising a pydantic generic costs more than using it."""
    return ListResponse[kind]


def list_page(
    kind: Any,
    *,
    total: int,
    offset: int,
    resources: list[Any],
    parameters: ResponseParameters[Any] | None,
) -> Response[Any]:
    """A ListResponse page (RFC 7644 §3.4.2): integer counters, 1-based startIndex."""
    listing = _list_response(kind)(
        total_results=total,
        start_index=offset + 1,
        items_per_page=len(resources),
        resources=resources,
    )
    payload = listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=parameters)
    return scim_response(payload)


def payload_page(*, total: int, offset: int, payloads: list[dict[str, Any]]) -> Response[Any]:
    """A ListResponse page whose resources are already response bodies."""
    return scim_response(list_payload(total=total, start_index=offset + 1, resources=payloads))


def payload_response(
    payload: dict[str, Any], *, etag: str, status: int = 200, created_at: str | None = None
) -> Response[Any]:
    headers = {"ETag": etag}
    if created_at is not None:
        headers["Location"] = created_at
    return scim_response(payload, status=status, headers=headers)


def resource_response(
    resource: Resource[Any],
    *,
    etag: str,
    context: Context,
    parameters: ResponseParameters[Any] | None,
    status: int = 200,
    created_at: str | None = None,
) -> Response[Any]:
    headers = {"ETag": etag}
    if created_at is not None:
        headers["Location"] = created_at
    payload = resource.model_dump(scim_ctx=context, response_parameters=parameters)
    return scim_response(payload, status=status, headers=headers)
