"""Deliberately broken targets for the sign-in rules (DA-008, DA-009, SL-001..SL-005): ASGI
wrappers around our app, each with one fault a real platform could have. Built like the
ones in ``broken``: buffer the request and the response, rewrite one of them."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from tests.conformance.broken import call, pristine, wrap

if TYPE_CHECKING:
    from tests.conformance.broken import ASGIApp, Exchange, Scope

__all__ = [
    "asks_sso_users_to_link",
    "drops_deprovisioning_of_okta_users",
    "keeps_sessions_alive",
    "links_by_email",
    "resets_access_on_reactivation",
    "reveals_managed_accounts",
]

_USER = re.compile(r"^/scim/v2/(?P<practice>[^/]+)/Users/(?P<id>[^/]+)$")
_CALLBACK = re.compile(r"^/sso/[^/]+/callback$")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _header(scope: Scope, name: bytes) -> bytes:
    return next((v for k, v in scope["headers"] if k.lower() == name), b"")


def keeps_sessions_alive(app: ASGIApp) -> ASGIApp:
    """Fault: session lookups are cached, so a session that once opened the console keeps
    opening it, whatever became of its account."""
    opened: dict[bytes, Exchange] = {}

    async def response(scope: Scope, result: Exchange) -> Exchange:
        if scope["method"] != "GET" or scope["path"] != "/console/account":
            return result
        cookie = _header(scope, b"cookie")
        if result[0] == 200:
            opened[cookie] = result
        return opened.get(cookie, result)

    return wrap(app, response=response)


def resets_access_on_reactivation(app: ASGIApp, admin_key: str) -> ASGIApp:
    """Fault: an account reactivated over SCIM comes back with the lowest access level and
    no locations."""

    def request(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
        scope["sent"] = body
        return scope, body

    async def response(scope: Scope, result: Exchange) -> Exchange:
        found = _USER.match(scope["path"])
        payload = _json(result[2])
        reactivated = isinstance(payload, dict) and payload.get("active") is True
        if not found or scope["method"] not in {"PATCH", "PUT"} or result[0] != 200:
            return result
        if reactivated and b"active" in scope["sent"].lower():
            reset = {**pristine(scope), "method": "PATCH", "query_string": b""}
            reset["path"] = f"/api/v1/practices/{found['practice']}/staff/{found['id']}"
            reset["raw_path"] = reset["path"].encode()
            reset["headers"] = [
                (b"authorization", f"Bearer {admin_key}".encode()),
                (b"content-type", b"application/json"),
            ]
            body = {"access_level": "admin_staff", "location_ids": []}
            await call(app, reset, json.dumps(body).encode())
        return result

    return wrap(app, request, response)


def reveals_managed_accounts(app: ASGIApp) -> ASGIApp:
    """Fault: forgot-password tells an SSO user, on the page, that the organisation manages
    the account: anyone can learn which usernames the identity provider manages."""

    async def response(scope: Scope, result: Exchange) -> Exchange:
        status, headers, body = result
        if scope["method"] != "POST" or not scope["path"].endswith("/forgot-password"):
            return result
        told = (
            b'<div class="callout" id="use-organisation"><p>Managed by your organisation.</p></div>'
        )
        sent = re.compile(rb'<div[^>]*id="link-sent".*?</div>', re.DOTALL)
        return status, headers, sent.sub(told, body)

    return wrap(app, response=response)


def links_by_email(app: ASGIApp) -> ASGIApp:
    """Fault: OpenID Connect identities are linked by their email, whatever rule the practice
    chose, so any identity with a provisioned user's email signs in as that user."""

    def request(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
        payload = _json(body)
        oidc = isinstance(payload, dict) and payload.get("protocol", "oidc") == "oidc"
        if scope["method"] == "PUT" and scope["path"].endswith("/sso") and oidc:
            body = json.dumps({**payload, "link_rule": "email:userName"}).encode()
        return scope, body

    return wrap(app, request)


def _false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def _deactivates(payload: Any) -> bool:
    """Whether a PUT body or a PATCH request sets ``active`` to false (in any IdP's form)."""
    if not isinstance(payload, dict):
        return False
    if "Operations" not in payload:
        return _false(payload.get("active"))
    for op in payload["Operations"]:
        value = op.get("value")
        if str(op.get("path", "")).lower() != "active":
            value = value.get("active") if isinstance(value, dict) else None
        if _false(value):
            return True
    return False


def drops_deprovisioning_of_okta_users(app: ASGIApp) -> ASGIApp:
    """Fault: deactivating or deleting a user Okta provisioned (``externalId`` ``00u…``) is
    acknowledged over SCIM but never reaches the account: it keeps signing in."""
    okta_users: set[str] = set()

    def request(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
        found = _USER.match(scope["path"])
        scope["dropped"] = None
        if found and found["id"] in okta_users:
            deactivating = scope["method"] in {"PATCH", "PUT"} and _deactivates(_json(body))
            if deactivating or scope["method"] == "DELETE":
                scope["dropped"], scope["method"], body = scope["method"], "GET", b""
        return scope, body

    async def response(scope: Scope, result: Exchange) -> Exchange:
        status, headers, body = result
        payload = _json(body)
        created = scope["method"] == "POST" and scope["path"].endswith("/Users") and status == 201
        okta = isinstance(payload, dict) and str(payload.get("externalId")).startswith("00u")
        if created and okta:
            okta_users.add(str(payload["id"]))
        if scope["dropped"] == "DELETE":
            return 204, [(k, v) for k, v in headers if k.lower() != b"content-type"], b""
        if scope["dropped"] and isinstance(payload, dict):
            return status, headers, json.dumps({**payload, "active": False}).encode()
        return result

    return wrap(app, request, response)


def asks_sso_users_to_link(app: ASGIApp) -> ASGIApp:
    """Fault: a successful SSO sign-in stops at a page asking the person to link their
    account with a password (which a provisioned user does not have), instead of a
    session."""
    page = b"<h1>Link your account</h1><form method=post><input name=password></form>"

    async def response(scope: Scope, result: Exchange) -> Exchange:
        status, headers, _ = result
        if not _CALLBACK.match(scope["path"]) or status not in {302, 303}:
            return result
        dropped = {b"set-cookie", b"location", b"content-type"}
        kept = [(k, v) for k, v in headers if k.lower() not in dropped]
        return 200, [*kept, (b"content-type", b"text/html")], page

    return wrap(app, response=response)
