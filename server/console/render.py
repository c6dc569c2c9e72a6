"""HTML responses for the console: Jinja templates (autoescaped), cookies and the headers every
page carries (no caching, a strict content security policy, no referrer)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Response
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.response import Redirect
from markupsafe import Markup

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from litestar import Request

    from server.settings import Settings

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "STATIC_DIR",
    "cookie",
    "csrf_candidates",
    "expired",
    "page",
    "redirect",
    "session_cookie",
]

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "scimlab_session"
CSRF_COOKIE = "scimlab_csrf"

HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = lambda moment: f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def _local_time(moment: datetime | None) -> Markup:
    """A time the browser shows in the reader's time zone (console.js), with UTC on hover
    and as the text when scripts do not run."""
    if moment is None:
        return Markup("")
    utc = f"{moment:%Y-%m-%d %H:%M} UTC"
    return Markup('<time class="moment" datetime="{}" title="{}">{}</time>').format(
        moment.isoformat(), utc, utc
    )


_env.filters["local_time"] = _local_time


def session_csrf(session_token: str) -> str:
    """The CSRF token of a signed-in browser: derived from its session, never stored."""
    return hmac.new(session_token.encode(), b"scimlab console csrf", hashlib.sha256).hexdigest()


def csrf_candidates(request: Request[Any, Any, Any]) -> list[str]:
    """The token a form from this browser must carry: the session's once it has a session
    cookie (pages render only that one then), else the pre-sign-in double-submit cookie.

    Never both: a double-submit cookie can be planted by whoever can set a cookie for the
    site, so it must not authorise anything a signed-in session can do."""
    if session := request.cookies.get(SESSION_COOKIE):
        return [session_csrf(session)]
    if anonymous := request.cookies.get(CSRF_COOKIE):
        return [anonymous]
    return []


def cookie(
    settings: Settings, key: str, value: str, *, max_age: int | None = None, path: str = "/"
) -> Cookie:
    """Secure (unless configured off), HttpOnly, SameSite=Lax: Lax so that the identity
    provider's redirect back to the callback still carries the sign-in state."""
    return Cookie(
        key=key,
        value=value,
        max_age=max_age,
        path=path,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def session_cookie(settings: Settings, token: str) -> Cookie:
    return cookie(settings, SESSION_COOKIE, token, max_age=settings.session_ttl_seconds)


def expired(settings: Settings, key: str, *, path: str = "/") -> Cookie:
    return cookie(settings, key, "", max_age=0, path=path)


def page(
    request: Request[Any, Any, Any],
    settings: Settings,
    template: str,
    *,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> Response[str]:
    """Render ``template`` with the browser's CSRF token (made, and set, when it has none)."""
    cookies = list(cookies or [])
    just_set = next((c.value for c in cookies if c.key == SESSION_COOKIE and c.value), None)
    session = just_set or request.cookies.get(SESSION_COOKIE)
    if session:
        csrf = session_csrf(session)
    elif not (csrf := request.cookies.get(CSRF_COOKIE) or ""):
        csrf = secrets.token_urlsafe(32)
        cookies.append(cookie(settings, CSRF_COOKIE, csrf))
    html = _env.get_template(template).render(csrf=csrf, request_path=request.url.path, **context)
    return Response(
        content=html,
        media_type=MediaType.HTML,
        status_code=status_code,
        headers={**HEADERS, **(headers or {})},
        cookies=cookies,
    )


def redirect(path: str, *, cookies: list[Cookie] | None = None) -> Redirect:
    return Redirect(path=path, status_code=303, headers=HEADERS, cookies=cookies or [])
