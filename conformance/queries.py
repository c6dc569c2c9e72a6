"""Attribute filtering (AF), second half: ``filter`` operators, logic and value paths, paging,
sorting and ``POST /.search`` (RFC 7644 §3.4.2-§3.4.3).

Every filter is scoped to a fresh fixture (three users under one prefix, see
:func:`conformance.actions.filter_fixture`), so the checks give the same answer on a target
that already holds other users. The AF area spans this module and ``attribute_filtering``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance import actions, scim
from conformance.registry import check

if TYPE_CHECKING:
    from conformance.session import Session

FILTER_RULE = "RFC 7644 §3.4.2.2"
ALL = {"alpha", "bravo", "charlie"}


async def _cases(s: Session, cases: list[tuple[str, set[str]]]) -> None:
    await actions.require(s, "filter")
    prefix, ids = await actions.filter_fixture(s)
    for template, expected in cases:
        await actions.expect_filter(s, template.format(p=prefix), expected, ids)


@check("AF-009", "Filter comparison operators eq, ne, co, sw, ew and pr", rule=FILTER_RULE)
async def comparison_operators(s: Session) -> None:
    """RFC 7644 §3.4.2.2, table of attribute operators: ``eq``, ``ne``, ``co``, ``sw``, ``ew``
    and ``pr`` on strings, booleans and sub-attributes."""
    scope = 'userName sw "{p}-" and '
    await _cases(
        s,
        [
            ('userName eq "{p}-bravo"', {"bravo"}),
            ('userName sw "{p}-"', ALL),
            (scope + 'userName ne "{p}-alpha"', {"bravo", "charlie"}),
            (scope + 'userName co "rav"', {"bravo"}),
            (scope + 'userName ew "-charlie"', {"charlie"}),
            (scope + "phoneNumbers pr", {"alpha", "charlie"}),
            (scope + 'name.familyName eq "Young"', {"bravo"}),
            (scope + "active eq false", {"bravo"}),
        ],
    )


@check("AF-010", "Filter ordering operators gt, ge, lt and le", rule=FILTER_RULE)
async def ordering_operators(s: Session) -> None:
    """RFC 7644 §3.4.2.2: ``gt``, ``ge``, ``lt``, ``le`` compare strings lexicographically and
    dateTimes chronologically."""
    scope = 'userName sw "{p}-" and '
    await _cases(
        s,
        [
            (scope + 'userName gt "{p}-alpha"', {"bravo", "charlie"}),
            (scope + 'userName ge "{p}-bravo"', {"bravo", "charlie"}),
            (scope + 'userName lt "{p}-bravo"', {"alpha"}),
            (scope + 'userName le "{p}-bravo"', {"alpha", "bravo"}),
            (scope + 'meta.lastModified gt "2000-01-01T00:00:00Z"', ALL),
        ],
    )


@check(
    "AF-011",
    "Filter logic: and, or, not and grouping",
    rule="RFC 7644 §3.4.2.2 (logical operators, grouping)",
)
async def logical_operators(s: Session) -> None:
    """RFC 7644 §3.4.2.2: ``and``, ``or``, ``not`` and parentheses, with ``and`` binding more
    tightly than ``or``."""
    scope = 'userName sw "{p}-" and '
    await _cases(
        s,
        [
            ('userName eq "{p}-alpha" or userName eq "{p}-bravo"', {"alpha", "bravo"}),
            (scope + '(name.givenName eq "Ana" or name.givenName eq "Cat")', {"alpha", "charlie"}),
            (scope + "not (active eq false)", {"alpha", "charlie"}),
            (
                'userName eq "{p}-alpha" or userName sw "{p}-" and active eq false',
                {"alpha", "bravo"},
            ),
        ],
    )


@check(
    "AF-012", "Filter value paths on multi-valued attributes", rule="RFC 7644 §3.4.2.2 (valuePath)"
)
async def value_paths(s: Session) -> None:
    """RFC 7644 §3.4.2.2: ``emails[type eq "work" and value ew "..."]`` matches users with one
    element meeting every condition; ``emails.value`` matches any element."""
    scope = 'userName sw "{p}-" and '
    await _cases(
        s,
        [
            (scope + 'emails[type eq "work" and value ew "@example.org"]', {"alpha", "bravo"}),
            ('emails[value eq "{p}-charlie@example.net"]', {"charlie"}),
            (scope + 'emails.value co "charlie@"', {"charlie"}),
        ],
    )


@check("AF-013", "startIndex and count page through a stable list", rule="RFC 7644 §3.4.2.4")
async def paging(s: Session) -> None:
    """RFC 7644 §3.4.2.4: 1-based ``startIndex``, ``count`` as an upper bound, integer
    ``totalResults``/``startIndex``/``itemsPerPage``, consecutive pages without overlap;
    ``count=0`` returns only ``totalResults``."""
    await actions.filter_fixture(s)
    seen: list[str] = []
    total = None
    for start in (1, 3):
        response = await s.scim("GET", "/Users", params={"startIndex": str(start), "count": "2"})
        page = s.expect_status(response, 200, doing=f"listing page startIndex={start}")
        counters = {k: scim.attr(page, k) for k in ("totalResults", "startIndex", "itemsPerPage")}
        bad = [k for k, v in counters.items() if not isinstance(v, int) or isinstance(v, bool)]
        s.expect(not bad, f"paging counters are not integers: {bad}", response)
        s.expect(counters["startIndex"] == start, f"startIndex is not {start}", response)
        found = scim.resources(page)
        s.expect(len(found) <= 2, "a page holds more than count resources", response)
        s.expect(counters["itemsPerPage"] == len(found), "itemsPerPage disagrees", response)
        s.expect(total in (None, counters["totalResults"]), "totalResults changed", response)
        total = counters["totalResults"]
        ids = [str(r.get("id")) for r in found]
        s.expect(not set(ids) & set(seen), "consecutive pages overlap", response)
        seen += ids
    s.expect(len(seen) == min(4, total or 0), f"pages hold {len(seen)} of {total}", None)
    response = await s.scim("GET", "/Users", params={"count": "0"})
    empty = s.expect_status(response, 200, doing="listing with count=0")
    s.expect(not scim.resources(empty), "count=0 returned resources", response)
    s.expect(scim.attr(empty, "totalResults") == total, "count=0 lost totalResults", response)


@check("AF-014", "sortBy and sortOrder order the results", rule="RFC 7644 §3.4.2.3")
async def sorting(s: Session) -> None:
    """RFC 7644 §3.4.2.3: ``sortBy`` orders by an attribute, ``sortOrder`` ascending (the
    default) or descending. Applies when the ServiceProviderConfig announces sort."""
    await actions.require(s, "sort")
    prefix, ids = await actions.filter_fixture(s)
    order = {
        "userName": ["alpha", "bravo", "charlie"],
        "name.familyName": ["charlie", "bravo", "alpha"],
    }
    for sort_by, ascending in order.items():
        for direction, expected in (("ascending", ascending), ("descending", ascending[::-1])):
            params = {"sortBy": sort_by, "sortOrder": direction}
            found = await actions.expect_filter(s, f'userName sw "{prefix}-"', ALL, ids, **params)
            labels = [next(k for k, v in ids.items() if v == r.get("id")) for r in found]
            s.expect(labels == expected, f"sortBy={sort_by} {direction} gave {labels}", None)


@check("AF-015", "POST /.search answers like GET with a filter", rule="RFC 7644 §3.4.3")
async def search_endpoint(s: Session) -> None:
    """RFC 7644 §3.4.3: a SearchRequest POSTed to ``/Users/.search`` (filter, attributes,
    startIndex, count) returns the ListResponse the same query string would (200)."""
    await actions.require(s, "filter")
    prefix, ids = await actions.filter_fixture(s)
    request = {
        "schemas": [scim.SEARCH_REQUEST],
        "filter": f'userName sw "{prefix}-" and active eq true',
        "attributes": ["userName"],
        "startIndex": 1,
        "count": 10,
    }
    response = await s.scim("POST", "/Users/.search", json=request)
    listing = s.expect_status(response, 200, doing="POST /Users/.search")
    found = {str(r.get("id")) for r in scim.resources(listing)}
    s.expect(found == {ids["alpha"], ids["charlie"]}, "/.search found other users", response)
    s.expect(scim.attr(listing, "totalResults") == 2, "/.search totalResults is not 2", response)
    extra = [r for r in scim.resources(listing) if scim.attr(r, "emails") is not None]
    s.expect(not extra, "/.search ignored attributes", response)


_UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


@check("AF-016", "cursor and count walk a list by nextCursor", rule="RFC 9865 §2; RFC 9865 §2.1")
async def cursor_paging(s: Session) -> None:
    """RFC 9865 §2: an empty ``cursor`` asks for the first page; every page but the last
    carries ``nextCursor`` (RFC 3986 unreserved characters), which the next request passes
    back with the same query; the last page has none; pages do not overlap and hold at most
    ``count``. §2.1: an invalid cursor is 400 with scimType ``invalidCursor``. Applies when
    the ServiceProviderConfig announces ``pagination.cursor``."""
    config = await actions.service_provider_config(s)
    if scim.attr(config or {}, "pagination.cursor") is not True:
        s.not_applicable("the target's ServiceProviderConfig does not announce cursor paging")
    prefix, ids = await actions.filter_fixture(s)
    query = {"filter": f'userName sw "{prefix}-"', "count": "2"}
    seen: list[str] = []
    cursor = ""
    for page_number in (1, 2):
        response = await s.scim("GET", "/Users", params={**query, "cursor": cursor})
        page = s.expect_status(response, 200, doing=f"listing cursor page {page_number}")
        found = [str(r.get("id")) for r in scim.resources(page)]
        s.expect(len(found) <= 2, "a cursor page holds more than count resources", response)
        s.expect(not set(found) & set(seen), "consecutive cursor pages overlap", response)
        seen += found
        next_cursor = scim.attr(page, "nextCursor")
        if page_number == 1:
            s.expect(
                isinstance(next_cursor, str) and next_cursor,
                "the first of two pages has no nextCursor",
                response,
            )
            s.expect(
                set(str(next_cursor)) <= _UNRESERVED,
                "nextCursor has characters outside RFC 3986 unreserved",
                response,
            )
            cursor = str(next_cursor)
        else:
            s.expect(next_cursor is None, "the last page still has a nextCursor", response)
    s.expect(set(seen) == set(ids.values()), f"the walk found {len(seen)} of 3 users", None)
    response = await s.scim("GET", "/Users", params={**query, "cursor": "not-a-cursor"})
    error = s.expect_status(response, 400, doing="listing with an invalid cursor")
    scim_type = scim.attr(error, "scimType")
    wrong = f"scimType is {scim_type!r}, not invalidCursor"
    s.expect(scim_type == "invalidCursor", wrong, response)


@check("AF-017", "previousCursor leads back to the page before", rule="RFC 9865 §2")
async def cursor_paging_back(s: Session) -> None:
    """RFC 9865 §2: a page may carry ``previousCursor`` (OPTIONAL); passed back with the same
    query, it answers the page before. Applies when the ServiceProviderConfig announces
    ``pagination.cursor`` and a second page carries ``previousCursor``."""
    config = await actions.service_provider_config(s)
    if scim.attr(config or {}, "pagination.cursor") is not True:
        s.not_applicable("the target's ServiceProviderConfig does not announce cursor paging")
    prefix, _ids = await actions.filter_fixture(s)
    query = {"filter": f'userName sw "{prefix}-"', "count": "2"}
    response = await s.scim("GET", "/Users", params={**query, "cursor": ""})
    first = s.expect_status(response, 200, doing="listing the first cursor page")
    next_cursor = scim.attr(first, "nextCursor")
    if not isinstance(next_cursor, str) or not next_cursor:
        s.not_applicable("the first of two pages has no nextCursor (AF-016)")
    response = await s.scim("GET", "/Users", params={**query, "cursor": next_cursor})
    second = s.expect_status(response, 200, doing="listing the second cursor page")
    previous = scim.attr(second, "previousCursor")
    if previous is None:
        s.not_applicable("the target gives no previousCursor, which RFC 9865 makes optional")
    response = await s.scim("GET", "/Users", params={**query, "cursor": str(previous)})
    back = s.expect_status(response, 200, doing="listing the page a previousCursor names")
    first_ids = [str(r.get("id")) for r in scim.resources(first)]
    back_ids = [str(r.get("id")) for r in scim.resources(back)]
    s.expect(
        back_ids == first_ids,
        f"the second page's previousCursor answered {back_ids}, not the first page {first_ids}",
        response,
    )
