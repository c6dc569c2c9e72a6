"""List query parameters (RFC 7644 §3.4.2): filter, paging, attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scim2_models import ResponseParameters, ScimFilter, User
from scim2_models.path.expressions import CompareOperator, Comparison

from server.scim.errors import ScimRequestError
from server.scim.requests import page_window

if TYPE_CHECKING:
    from litestar import Request

__all__ = ["ListQuery", "list_query", "response_parameters"]

DEFAULT_PAGE_SIZE = 100
MAX_FILTER_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class ListQuery:
    user_name: str | None
    offset: int
    limit: int


def _user_name_filter(text: str) -> str:
    """The userName an ``userName eq "..."`` filter asks for (RFC 7644 §3.4.2.2)."""
    if len(text) > MAX_FILTER_LENGTH:
        raise ScimRequestError(400, "the filter is too long", "invalidFilter")
    try:
        node = ScimFilter[User[Any]](text).ast
    except (ValueError, TypeError) as error:
        raise ScimRequestError(400, f"invalid filter: {error}", "invalidFilter") from None
    if (
        isinstance(node, Comparison)
        and node.attr_path.attr.lower() == "username"
        and node.attr_path.sub_attr is None
        and node.op is CompareOperator.eq
        and isinstance(node.value, str)
    ):
        return node.value
    raise ScimRequestError(400, "only userName eq filters are supported", "invalidFilter")


def list_query(request: Request[Any, Any, Any], max_page_size: int) -> ListQuery:
    params = request.query_params
    filter_text = params.get("filter")
    offset, limit = page_window(
        params.get("startIndex"),
        params.get("count"),
        default=min(DEFAULT_PAGE_SIZE, max_page_size),
        maximum=max_page_size,
    )
    user_name = _user_name_filter(filter_text) if filter_text else None
    return ListQuery(user_name=user_name, offset=offset, limit=limit)


def _names(raw: str | None) -> list[str] | None:
    if not raw:
        return None
    return [name.strip() for name in raw.split(",") if name.strip()]


def response_parameters(request: Request[Any, Any, Any]) -> ResponseParameters[Any] | None:
    """``attributes`` / ``excludedAttributes`` (RFC 7644 §3.4.2.5) of any read."""
    params = request.query_params
    attributes = _names(params.get("attributes"))
    excluded = _names(params.get("excludedAttributes"))
    if attributes is None and excluded is None:
        return None
    try:
        return ResponseParameters(attributes=attributes, excluded_attributes=excluded)
    except ValueError as error:
        raise ScimRequestError(400, f"invalid attribute list: {error}", "invalidValue") from None
