"""The plainest reads, searches, creates and PATCHes of ``/Users`` (RFC 7644 §3.3,
§3.4.1, §3.4.2, §3.5.2), answered without Litestar's handler machinery.

Resolving the dependencies, checking the signature and building a ``Response`` cost a read
by id about as much CPU as checking the token and reading the user with its groups (in
process, 348 µs per read with them, 224 µs without). A shortcut is a middleware on one route
only, inside every application layer (edge, metrics, rate limits), and the edge's lane
(``server.ops.lane``) calls it without the router. It answers a request with
a bearer token and no ``If-Match``, ``If-None-Match`` or ``Prefer`` itself (reads, creates
and PATCHes: with no query; searches: with no ``attributes`` or ``excludedAttributes``),
through the handler's own services, parsing and body builder; a failure is written by the
route's exception handlers, as the handler's are. Any other request goes on to the handler.
``tests/integration/test_shortcuts.py`` and ``test_patch_shortcut.py`` check that both
answer alike.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote_plus
from uuid import UUID

from litestar.serialization import encode_json
from scim2_models import Context

from server.domain.provisioning import parse_user_id
from server.mapping.user_parse import parse_user_profile
from server.mapping.user_wire import list_payload, user_payload
from server.ops.lane import LaneRoute, answer_failure
from server.scim.query import list_parameters
from server.scim.requests import read_json_object
from server.scim.resources import location
from server.scim.responses import SCIM_MEDIA_TYPE
from server.scim.user_bodies import user_payloads
from server.scim.user_patch import patch_change

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.types import ASGIApp, Receive, Scope, Send

    from server.services import Services

__all__ = [
    "SHORTCUT_ROUTES",
    "PlainCreate",
    "PlainPatch",
    "PlainRead",
    "PlainSearch",
    "bearer_token",
]

_MEDIA_TYPE = SCIM_MEDIA_TYPE.encode()
# Headers that change what the answer is, or whether there is one: the handler deals with them.
_HANDLED_BY_HANDLER = frozenset({b"if-match", b"if-none-match", b"prefer"})
# Query parameters that select attributes (RFC 7644 §3.4.2.5): scim2-models writes those.
_SELECTING = frozenset({"attributes", "excludedAttributes"})

Answer = tuple[int, list[tuple[bytes, bytes]], dict[str, Any]]

# The routes above as the edge's lane (``server.ops.lane``) matches them: only a path the
# router would not change first (a canonical UUID, no trailing or doubled slash).
_HEX = "[0-9a-fA-F]"
_USERS = f"/scim/v2/(?P<practice_id>{_HEX}{{8}}(?:-{_HEX}{{4}}){{3}}-{_HEX}{{12}})/Users"
_USER = f"{_USERS}/(?P<user_id>[^/]+)"
_SAMPLE = "/scim/v2/00000000-0000-0000-0000-000000000000/Users"
_PARAMS: dict[str, Callable[[str], Any]] = {"practice_id": UUID, "user_id": str}
SHORTCUT_ROUTES = [
    LaneRoute("GET", re.compile(_USER), f"{_SAMPLE}/x", _PARAMS),
    LaneRoute("PATCH", re.compile(_USER), f"{_SAMPLE}/x", _PARAMS),
    LaneRoute("GET", re.compile(_USERS), _SAMPLE, _PARAMS),
    LaneRoute("POST", re.compile(_USERS), _SAMPLE, _PARAMS),
]


def bearer_token(scope: Scope) -> str | None:
    """The bearer token of a request a shortcut may answer; None sends it to the handler.
    Of several ``Authorization`` headers the first counts, as in the handler's guard."""
    authorization: bytes | None = None
    for name, value in scope["headers"]:
        if name in _HANDLED_BY_HANDLER:
            return None
        if name == b"authorization" and authorization is None:
            authorization = value
    if authorization is None:
        return None
    scheme, _, credential = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return None
    return credential.strip()


def _parameter_names(query: str) -> set[str]:
    """The names Litestar's query parser (``urllib.parse.parse_qsl``) reads, without decoding
    the values (a filter's quotes and spaces are percent-encoded)."""
    names = set()
    for part in query.split("&"):
        name = part.partition("=")[0]
        names.add(unquote_plus(name) if "%" in name or "+" in name else name)
    return names


class _Shortcut(ABC):
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def takes(self, scope: Scope) -> bool:
        """Whether this shortcut answers the request (else the handler does)."""
        return not scope["query_string"] and bearer_token(scope) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.takes(scope):
            await self.respond(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request. A failure becomes the route's error response here, as in
        Litestar's exception layer between a route and its middleware, so the rate limits
        and metrics around see its status (``server.ops.lane`` calls this too)."""
        try:
            status, headers, body = await self._answer(scope, receive)
        except Exception as error:
            await answer_failure(error, scope, receive, send)
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _answer(
        self, scope: Scope, receive: Receive
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        services: Services = scope["litestar_app"].state.services
        # A ``uuid`` parameter, kept with its text for the layers around, which label by it
        # (in a copy: the router hands out one cached dict for every request to this path).
        url_practice = cast(UUID, scope["path_params"]["practice_id"])
        params: dict[str, Any] = {**scope["path_params"], "practice_id": url_practice}
        scope["path_params"] = params
        token = bearer_token(scope) or ""
        practice = await services.tokens.practice_for_bearer(token, url_practice)
        status, headers, payload = await self.answer(services, practice, scope, receive)
        body = encode_json(payload)
        headers += [(b"content-type", _MEDIA_TYPE), (b"content-length", str(len(body)).encode())]
        return status, headers, body

    @abstractmethod
    async def answer(
        self, services: Services, practice: UUID, scope: Scope, receive: Receive
    ) -> Answer:
        """The status, headers and body of the request, for ``practice`` (authenticated)."""


class PlainRead(_Shortcut):
    """``GET /Users/{id}``: the user with its groups, as ``UsersController.read``."""

    async def answer(
        self, services: Services, practice: UUID, scope: Scope, receive: Receive
    ) -> Answer:
        user_id = parse_user_id(scope["path_params"]["user_id"])
        staff, groups = await services.provisioning.get_with_groups(practice, user_id)
        [payload] = await user_payloads(services, practice, [staff], {staff.id: groups})
        return 200, [(b"etag", staff.etag.encode("latin-1"))], payload


class PlainSearch(_Shortcut):
    """``GET /Users`` with a filter, sorting or paging: a page of full users, as
    ``UsersController.search``."""

    def takes(self, scope: Scope) -> bool:
        names = _parameter_names(scope["query_string"].decode("latin-1"))
        return names.isdisjoint(_SELECTING) and bearer_token(scope) is not None

    async def answer(
        self, services: Services, practice: UUID, scope: Scope, receive: Receive
    ) -> Answer:
        request = scope["litestar_app"].request_class(scope=scope, receive=receive)
        query = list_parameters(request, services.settings.max_page_size).query
        total, users = await services.provisioning.search(practice, query)
        payloads = await user_payloads(services, practice, users)
        page = list_payload(total=total, start_index=query.offset + 1, resources=payloads)
        return 200, [], page


class PlainCreate(_Shortcut):
    """``POST /Users``: the body read and validated, the user created, as
    ``UsersController.create``."""

    async def answer(
        self, services: Services, practice: UUID, scope: Scope, receive: Receive
    ) -> Answer:
        request = scope["litestar_app"].request_class(scope=scope, receive=receive)
        body = await read_json_object(request)
        profile = parse_user_profile(body, Context.RESOURCE_CREATION_REQUEST)
        staff = await services.provisioning.create(practice, profile)
        at = location(services, practice, "Users", staff.id)
        headers = [(b"etag", staff.etag.encode("latin-1")), (b"location", at.encode("latin-1"))]
        return 201, headers, user_payload(staff, location=at)


class PlainPatch(_Shortcut):
    """``PATCH /Users/{id}`` without a precondition: the body read, the change made and the
    user answered with its groups, as ``UsersController.modify``."""

    async def answer(
        self, services: Services, practice: UUID, scope: Scope, receive: Receive
    ) -> Answer:
        request = scope["litestar_app"].request_class(scope=scope, receive=receive)
        change = patch_change(await read_json_object(request))
        user_id = parse_user_id(scope["path_params"]["user_id"])
        staff, groups = await services.provisioning.modify(practice, user_id, change)
        [payload] = await user_payloads(services, practice, [staff], {staff.id: groups})
        return 200, [(b"etag", staff.etag.encode("latin-1"))], payload
