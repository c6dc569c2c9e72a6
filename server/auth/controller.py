"""The OAuth 2.0 token endpoint (RFC 6749 §3.2, §4.4; errors §5.2)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency

from server.auth.service import OAuthError
from server.domain.text import unstorable
from server.security import parse_basic_credentials
from server.services import Services

__all__ = ["TokenController", "oauth_error_response"]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error_response(_: Request[Any, Any, Any], exc: OAuthError) -> Response[Any]:
    headers = dict(_NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="token"'
    return Response(
        content={"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers=headers,
        media_type="application/json",
    )


def _basic_client(header: str) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: HTTP Basic carries the form-urlencoded client id and secret."""
    try:
        credentials = parse_basic_credentials(header)
    except ValueError as error:
        raise OAuthError("invalid_client", str(error), status=401) from None
    if credentials is None:
        return None
    return unquote_plus(credentials[0]), unquote_plus(credentials[1])


class TokenController(Controller):
    path = "/oauth"
    exception_handlers = {OAuthError: oauth_error_response}  # noqa: RUF012

    @post("/token", status_code=200)
    async def token(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Any]:
        content_type = request.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" not in content_type.lower():
            raise OAuthError(
                "invalid_request", "the body must be application/x-www-form-urlencoded"
            )
        raw = await request.body()
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except (UnicodeDecodeError, ValueError):
            raise OAuthError("invalid_request", "the body is not a valid form") from None
        form: dict[str, str] = {}
        for key, value in pairs:
            if key in form:
                raise OAuthError("invalid_request", f"parameter {key} is repeated")
            form[key] = value
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        basic = _basic_client(request.headers.get("authorization", ""))
        if basic is not None and ("client_id" in form and form["client_id"] != basic[0]):
            raise OAuthError("invalid_request", "client authenticated twice, differently")
        if basic is not None and "client_secret" in form:
            raise OAuthError("invalid_request", "use one client authentication method only")
        client_id, client_secret = basic or (form.get("client_id"), form.get("client_secret"))
        if not client_id or client_secret is None:
            raise OAuthError("invalid_client", "client authentication is required", status=401)
        problem = unstorable(client_id) or unstorable(client_secret)
        if problem is not None:
            raise OAuthError("invalid_request", f"client credentials may not contain {problem}")
        if grant_type != "client_credentials":
            raise OAuthError(
                "unsupported_grant_type", f"grant_type {grant_type[:40]!r} is not supported"
            )
        issued = await services.tokens.client_credentials(client_id, client_secret)
        return Response(
            content={
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
            },
            headers=_NO_STORE,
            media_type="application/json",
        )
