"""List and search parameters (RFC 7644 §3.4.2, §3.4.3): filter, sorting, paging, attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scim2_models import Context, ResponseParameters, SearchRequest

from server.domain.query import FieldTest, Operator, ResourceQuery
from server.mapping.filters import USER_FILTERS, FilterSchema, parse_filter, sort_field
from server.mapping.schema import SCIM_POLICY
from server.scim.operations.exchange import ScimRequestError
from server.scim.requests import page_window

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "ListParameters",
    "list_parameters",
    "response_parameters",
    "search_parameters",
    "user_name_lookup",
]

DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class ListParameters:
    query: ResourceQuery
    response: ResponseParameters[Any] | None
    # RFC 9865: the ``cursor`` given ("" for the first page), None for index paging.
    cursor: str | None = None
    filter_text: str | None = None


def _names(raw: str | None) -> list[str] | None:
    if not raw:
        return None
    return [name.strip() for name in raw.split(",") if name.strip()]


def _response(attributes: Any, excluded: Any) -> ResponseParameters[Any] | None:
    if not attributes and not excluded:
        return None
    try:
        return ResponseParameters(
            attributes=attributes or None, excluded_attributes=excluded or None
        )
    except ValueError as error:
        raise ScimRequestError(400, f"invalid attribute list: {error}", "invalidValue") from None


def _sort_order(raw: Any) -> bool:
    text = str(raw or "ascending").strip().lower()
    if text not in {"ascending", "descending"}:
        raise ScimRequestError(400, "sortOrder is ascending or descending", "invalidValue")
    return text == "descending"


def _build(
    *,
    filter_text: Any,
    sort_by: Any,
    sort_order: Any,
    start_index: Any,
    count: Any,
    max_page_size: int,
    schema: FilterSchema,
    cursor: str | None = None,
) -> ResourceQuery:
    offset, limit = page_window(
        start_index,
        count,
        default=min(DEFAULT_PAGE_SIZE, max_page_size),
        maximum=max_page_size,
    )
    if cursor is not None:
        _check_cursor_request(start_index, sort_by, limit)
    predicate = parse_filter(str(filter_text), schema) if filter_text else None
    field = None
    if sort_by:
        try:
            field = sort_field(str(sort_by), schema)
        except ValueError as error:
            raise ScimRequestError(400, str(error), "invalidValue") from None
    return ResourceQuery(
        predicate=predicate,
        sort_field=field,
        descending=_sort_order(sort_order),
        offset=offset,
        limit=limit,
    )


def _check_cursor_request(start_index: Any, sort_by: Any, limit: int) -> None:
    """RFC 9865: one paging method per request, and a positive ``count``. Cursor pages come
    in creation order (the order the keyset follows), so ``sortBy`` is refused with them."""
    if start_index is not None and start_index != "":
        raise ScimRequestError(400, "startIndex and cursor cannot be used together", "invalidValue")
    if sort_by:
        msg = "cursor pages come in creation order: sortBy cannot be used with cursor"
        raise ScimRequestError(400, msg, "invalidValue")
    if limit < 1:
        raise ScimRequestError(400, "count must be at least 1 with cursor", "invalidCount")


def user_name_lookup(parameters: ListParameters) -> str | None:
    """The userName a search looks up when its answer is that one lookup: the filter is
    ``userName eq`` a value alone (one account at most: the key is unique in a practice),
    the page starts at the first result, holds one at least and is paged by index."""
    query, test = parameters.query, parameters.query.predicate
    if (
        parameters.cursor is None
        and query.offset == 0
        and query.limit >= 1
        and isinstance(test, FieldTest)
        and test.field == "user_name"
        and test.operator is Operator.EQ
        and isinstance(test.value, str)
        and test.value
    ):
        return test.value
    return None


def response_parameters(params: Mapping[str, str]) -> ResponseParameters[Any] | None:
    """``attributes`` / ``excludedAttributes`` of any read (RFC 7644 §3.4.2.5)."""
    return _response(_names(params.get("attributes")), _names(params.get("excludedAttributes")))


def list_parameters(
    params: Mapping[str, str], max_page_size: int, schema: FilterSchema = USER_FILTERS
) -> ListParameters:
    """A ``GET`` search's query parameters (RFC 7644 §3.4.2)."""
    query = _build(
        filter_text=params.get("filter"),
        sort_by=params.get("sortBy"),
        sort_order=params.get("sortOrder"),
        start_index=params.get("startIndex"),
        count=params.get("count"),
        max_page_size=max_page_size,
        schema=schema,
        cursor=params.get("cursor"),
    )
    return ListParameters(
        query, response_parameters(params), params.get("cursor"), params.get("filter")
    )


def search_parameters(
    body: dict[str, Any], max_page_size: int, schema: FilterSchema = USER_FILTERS
) -> ListParameters:
    """A ``POST .search`` body (RFC 7644 §3.4.3), read with the SearchRequest schema."""
    search: SearchRequest[Any] = SearchRequest.model_validate(
        body, scim_ctx=Context.SEARCH_REQUEST, scim_policy=SCIM_POLICY
    )
    query = _build(
        filter_text=search.filter,
        sort_by=search.sort_by,
        sort_order=getattr(search.sort_order, "value", search.sort_order),
        start_index=search.start_index,
        count=search.count,
        max_page_size=max_page_size,
        schema=schema,
        cursor=search.cursor,
    )
    selection = _response(search.attributes, search.excluded_attributes)
    return ListParameters(query, selection, search.cursor, search.filter)
