"""A deliberately broken SAML target (SL-011): our app behind a wrapper that, like a service
provider that only checks signatures when there is one, signs in whoever an unsigned
response names."""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl
from uuid import UUID

import defusedxml.ElementTree as SafeTree

from server.console.render import SESSION_COOKIE
from tests.conformance.broken import wrap

if TYPE_CHECKING:
    from tests.conformance.broken import ASGIApp, Exchange, Scope

__all__ = ["accepts_unsigned_saml"]

_ACS = re.compile(r"^/sso/(?P<practice>[^/]+)/saml/acs$")
_NAME_ID = "{urn:oasis:names:tc:SAML:2.0:assertion}NameID"
_SIGNATURE = "{http://www.w3.org/2000/09/xmldsig#}Signature"


def accepts_unsigned_saml(app: Any) -> ASGIApp:
    """Fault: a SAML response with no signature at all is taken at its word: the account
    linked to its NameID gets a session."""
    services = app.state.services

    def request(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
        scope["sent"] = body
        return scope, body

    async def response(scope: Scope, result: Exchange) -> Exchange:
        found = _ACS.match(scope["path"])
        if not found or scope["method"] != "POST" or result[0] != 403:
            return result
        form = dict(parse_qsl(scope["sent"].decode("utf-8", "replace")))
        try:
            root = SafeTree.fromstring(base64.b64decode(form.get("SAMLResponse", "")))
        except (ValueError, SafeTree.ParseError):
            return result
        name_id = root.find(f".//{_NAME_ID}")
        if root.find(f".//{_SIGNATURE}") is not None or name_id is None or not name_id.text:
            return result
        practice = UUID(found["practice"])
        config = await services.sso_configs.get(practice)
        subject = name_id.text.strip().casefold()
        user = await services.store.credentials.find_by_sso_link(practice, config.issuer, subject)
        if user is None or not user.profile.active:
            return result
        session = await services.sign_in.open_session(user, method="sso unsigned")
        cookie = f"{SESSION_COOKIE}={session.token}; Path=/; HttpOnly; SameSite=Lax"
        return 303, [(b"location", b"/console"), (b"set-cookie", cookie.encode())], b""

    return wrap(app, request, response)
