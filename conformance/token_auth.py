"""Token auth (TA): the OAuth 2.0 token endpoint, bearer tokens on SCIM, and the credential
lifecycle (RFC 6749 §2.3.1, §4.4, §5.1-5.2; RFC 6750 §2.1, §3; RFC 7617).

TA-013..TA-015 rotate, pause and delete the practice's SCIM configuration through the
platform, so they run last; TA-015 re-enables the configuration and the run carries on with
the new credentials.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from conformance import actions, scim
from conformance.platform import platform
from conformance.registry import check

if TYPE_CHECKING:
    import httpx

    from conformance.session import Session

CLIENT_CREDENTIALS = {"grant_type": "client_credentials"}


def _oauth_error(s: Session, response: httpx.Response, code: str, *statuses: int) -> None:
    """RFC 6749 §5.2: status, JSON ``error`` code, and ``Cache-Control: no-store`` (§5.1)."""
    body = s.expect_status(response, *statuses, doing=f"expecting the {code} error")
    error = body.get("error") if isinstance(body, dict) else None
    s.expect(error == code, f"expected error {code!r}, got {error!r}", response)
    cache = response.headers.get("cache-control", "").lower()
    s.expect("no-store" in cache, "the error response lacks Cache-Control: no-store", response)
    if response.status_code == 401:
        s.expect("www-authenticate" in response.headers, "401 without WWW-Authenticate", response)


def _refused(s: Session, response: httpx.Response, what: str) -> None:
    """RFC 6750 §3: a refused credential gets 401 and a ``WWW-Authenticate`` challenge."""
    s.expect(response.status_code == 401, f"{what} was not refused with 401", response)
    s.expect(
        "www-authenticate" in response.headers, f"{what}: 401 lacks WWW-Authenticate", response
    )


async def _probe(s: Session, authorization: str | None) -> httpx.Response:
    return await s.scim("GET", "/Users", params={"count": "1"}, auth=authorization)


async def _token_works(s: Session, response: httpx.Response) -> None:
    body = s.expect_status(response, 200, doing="requesting a token")
    token = body.get("access_token") if isinstance(body, dict) else None
    s.expect(isinstance(token, str) and token, "no access_token in the response", response)
    kind = body.get("token_type")
    s.expect(str(kind).lower() == "bearer", f"token_type is {kind!r}, not Bearer", response)
    expires = body.get("expires_in")
    s.expect(expires is None or isinstance(expires, int), "expires_in is not an integer", response)
    cache = response.headers.get("cache-control", "").lower()
    s.expect("no-store" in cache, "the token response lacks Cache-Control: no-store", response)
    probe = await _probe(s, f"Bearer {token}")
    s.expect(probe.status_code == 200, "the issued token is refused by the SCIM endpoint", probe)


@check("TA-001", "client_secret_basic issues a working bearer token", rule="RFC 6749 §2.3.1, §4.4")
async def basic_client_auth(s: Session) -> None:
    """RFC 6749 §2.3.1 (servers MUST support HTTP Basic client authentication), §4.4.3 and
    §5.1: 200 with ``access_token``, ``token_type`` Bearer and ``Cache-Control: no-store``;
    the token then opens the SCIM endpoint (RFC 6750 §2.1)."""
    client_id, secret = s.require_client_credentials()
    await _token_works(s, await s.token_request(CLIENT_CREDENTIALS, basic=(client_id, secret)))


@check("TA-002", "client_secret_post issues a working bearer token", rule="RFC 6749 §2.3.1, §4.4")
async def post_client_auth(s: Session) -> None:
    """RFC 6749 §2.3.1: client id and secret in the form body (``client_secret_post``), which
    identity providers use as often as Basic."""
    client_id, secret = s.require_client_credentials()
    form = CLIENT_CREDENTIALS | {"client_id": client_id, "client_secret": secret}
    await _token_works(s, await s.token_request(form))


@check("TA-003", "A wrong client secret gets 401 invalid_client", rule="RFC 6749 §5.2")
async def wrong_secret(s: Session) -> None:
    """RFC 6749 §5.2 ``invalid_client``: a client that authenticated with the Authorization
    header gets 401 with ``WWW-Authenticate``."""
    client_id, secret = s.require_client_credentials()
    response = await s.token_request(CLIENT_CREDENTIALS, basic=(client_id, secret + "x"))
    _oauth_error(s, response, "invalid_client", 401)


@check("TA-004", "An unknown client gets invalid_client", rule="RFC 6749 §5.2")
async def unknown_client(s: Session) -> None:
    """RFC 6749 §5.2 ``invalid_client`` (unknown client), 400 or 401 for form credentials."""
    s.require_client_credentials()
    form = CLIENT_CREDENTIALS | {"client_id": s.unique("nobody"), "client_secret": "wrong-secret"}
    _oauth_error(s, await s.token_request(form), "invalid_client", 400, 401)


@check("TA-005", "An unsupported grant type gets unsupported_grant_type", rule="RFC 6749 §5.2")
async def unsupported_grant(s: Session) -> None:
    """RFC 6749 §5.2 ``unsupported_grant_type``: an authenticated client asking for a grant
    the server does not support gets 400."""
    client_id, secret = s.require_client_credentials()
    form = {"grant_type": "urn:example:params:oauth:grant-type:conformance"}
    response = await s.token_request(form, basic=(client_id, secret))
    _oauth_error(s, response, "unsupported_grant_type", 400)


@check(
    "TA-006",
    "Missing grant_type or client authentication is refused",
    rule="RFC 6749 §4.4.2, §5.2",
)
async def missing_parameters(s: Session) -> None:
    """RFC 6749 §4.4.2 makes ``grant_type`` REQUIRED: without it, §5.2 ``invalid_request``
    (400). Without any client authentication, §5.2 ``invalid_client`` (400 or 401)."""
    client_id, secret = s.require_client_credentials()
    response = await s.token_request({"scope": "scim"}, basic=(client_id, secret))
    _oauth_error(s, response, "invalid_request", 400)
    anonymous = await s.token_request(CLIENT_CREDENTIALS)
    _oauth_error(s, anonymous, "invalid_client", 400, 401)


@check("TA-007", "A malformed bearer token gets 401 with a challenge", rule="RFC 6750 §3, §3.1")
async def malformed_token(s: Session) -> None:
    """RFC 6750 §3.1 ``invalid_token`` (malformed or invalid token): 401 and, per §3, a
    ``WWW-Authenticate`` header."""
    _refused(s, await _probe(s, "Bearer not.a-real~token+/="), "a malformed bearer token")


@check("TA-008", "A request without credentials gets 401 with a challenge", rule="RFC 6750 §3")
async def no_credentials(s: Session) -> None:
    """RFC 6750 §3: a request without credentials gets 401 with ``WWW-Authenticate``; RFC 7644
    §2 requires every SCIM request to be authenticated."""
    _refused(s, await _probe(s, None), "a request without credentials")


@check("TA-009", "An expired access token is refused", rule="RFC 6750 §3.1; RFC 6749 §4.4.3")
async def expired_token(s: Session) -> None:
    """RFC 6750 §3.1 ``invalid_token`` covers expired tokens. The check waits for a token to
    expire, so it applies only when ``expires_in`` is short enough for the run."""
    s.require_client_credentials()
    token, expires_in = await s.issue_token()
    limit = s.target.expiry_wait_limit
    if expires_in is None or expires_in > limit:
        s.not_applicable(f"tokens live {expires_in} s; the run waits at most {limit:g} s")
    await asyncio.sleep(expires_in + 1.0)
    _refused(s, await _probe(s, f"Bearer {token}"), "an expired token")


@check("TA-010", "Another tenant's token is refused", rule="RFC 6750 §3.1; tenant isolation")
async def foreign_token(s: Session) -> None:
    """RFC 6750 §3.1: a token that does not grant access to this resource is refused; a token
    issued for another practice never opens this practice's endpoint."""
    if s.target.peer is None:
        s.not_applicable("needs a second tenant (--peer-scim-url/--peer-token)")
    response = await _probe(s, f"Bearer {s.target.peer.token}")
    if response.status_code != 403:
        _refused(s, response, "another tenant's token")


@check("TA-011", "HTTP Basic with the client id and secret works", rule="RFC 7617; RFC 7644 §2")
async def http_basic(s: Session) -> None:
    """RFC 7644 §2 lets servers offer HTTP Basic (RFC 7617), announced in the
    ServiceProviderConfig ``authenticationSchemes`` (RFC 7643 §5); a wrong secret is refused."""
    client_id, secret = s.require_client_credentials()
    config = await actions.service_provider_config(s)
    schemes = scim.attr(config, "authenticationSchemes") or []
    if not any(str(scim.attr(x, "type")).lower() == "httpbasic" for x in schemes):
        s.not_applicable("the ServiceProviderConfig does not announce httpbasic")
    good = await _probe(s, scim.basic_header(client_id, secret))
    s.expect(good.status_code == 200, "Basic with the client credentials is refused", good)
    _refused(s, await _probe(s, scim.basic_header(client_id, secret + "x")), "a wrong Basic secret")


@check("TA-012", "A static token works until it is revoked", rule="RFC 6750 §2.1; platform rule")
async def static_token(s: Session) -> None:
    """Static bearer tokens (RFC 6750 §2.1) issued by a practice administrator open the SCIM
    endpoint, and stop working as soon as they are revoked."""
    admin = platform(s)
    token_id, token = await admin.create_static_token()
    before = await _probe(s, f"Bearer {token}")
    s.expect(before.status_code == 200, "a fresh static token is refused", before)
    revoked = await admin.revoke_static_token(token_id)
    s.expect_status(revoked, 204, 200, doing="revoking the static token")
    _refused(s, await _probe(s, f"Bearer {token}"), "a revoked static token")


async def _old_credentials_refused(
    s: Session, client_id: str, secret: str, tokens: dict[str, str], why: str
) -> None:
    response = await s.token_request(CLIENT_CREDENTIALS, basic=(client_id, secret))
    s.expect(
        response.status_code in (400, 401), f"{why}: the old secret still gets tokens", response
    )
    error = s.json(response).get("error") if response.content else None
    s.expect(error == "invalid_client", f"{why}: old secret error is {error!r}", response)
    for what, authorization in tokens.items():
        _refused(s, await _probe(s, authorization), f"{why}: {what}")


@check(
    "TA-013",
    "A regenerated secret kills the old secret and tokens",
    rule="platform rule; RFC 6749 §5.2",
    last=True,
)
async def regenerated_secret(s: Session) -> None:
    """Regenerating the client secret invalidates the current secret at once: the token
    endpoint answers ``invalid_client`` (RFC 6749 §5.2) and tokens issued with it, and Basic
    with it, are refused (RFC 6750 §3.1); the new secret works."""
    admin = platform(s)
    client_id, old_secret = s.require_client_credentials()
    old_token, _ = await s.issue_token()
    await admin.regenerate_secret()
    old = {"a token issued with the old secret": f"Bearer {old_token}"}
    old["Basic with the old secret"] = scim.basic_header(client_id, old_secret)
    await _old_credentials_refused(s, client_id, old_secret, old, "after regeneration")
    new_id, new_secret = s.require_client_credentials()
    fresh = await s.token_request(CLIENT_CREDENTIALS, basic=(new_id, new_secret))
    await _token_works(s, fresh)


@check(
    "TA-014",
    "A disabled configuration refuses everything and changes nothing",
    rule="platform rule; RFC 6749 §5.2",
    last=True,
)
async def disabled_configuration(s: Session) -> None:
    """Disabling SCIM pauses provisioning: the token endpoint answers ``unauthorized_client``
    (RFC 6749 §5.2), every SCIM call is refused with 401 (RFC 6750 §3), and nothing a refused
    call asked for happens. Enabling again resumes with the same client credentials."""
    admin = platform(s)
    client_id, secret = s.require_client_credentials()
    token, _ = await s.issue_token()
    _, static = await admin.create_static_token()
    s.expect_status(await admin.disable(), 200, doing="disabling SCIM")
    s.defer(admin.enable)
    tokens = await s.token_request(CLIENT_CREDENTIALS, basic=(client_id, secret))
    _oauth_error(s, tokens, "unauthorized_client", 400)
    user_name = s.unique("paused")
    for authorization in (
        f"Bearer {token}",
        f"Bearer {static}",
        scim.basic_header(client_id, secret),
    ):
        created = await s.scim("POST", "/Users", json=scim.user_body(user_name), auth=authorization)
        _refused(s, created, "a SCIM call while disabled")
        if created.status_code == 201:
            actions.delete_later(s, f"/Users/{scim.attr(s.json(created), 'id')}")
        _refused(s, await _probe(s, authorization), "a SCIM read while disabled")
    await admin.enable()
    _, found = await actions.filter_users(s, f'userName eq "{user_name}"')
    s.expect(not found, "a user was created while SCIM was disabled", None)


@check(
    "TA-015",
    "A deleted configuration's credentials never work again",
    rule="platform rule",
    last=True,
)
async def deleted_configuration(s: Session) -> None:
    """Deleting the SCIM configuration is permanent: its client id and secret, its tokens and
    its static tokens never work again, not even after SCIM is enabled anew with new
    credentials (RFC 6749 §5.2 ``invalid_client``; RFC 6750 §3.1)."""
    admin = platform(s)
    client_id, secret = s.require_client_credentials()
    token, _ = await s.issue_token()
    _, static = await admin.create_static_token()
    s.expect_status(await admin.delete(), 204, 200, doing="deleting the configuration")
    re_enabled: dict[str, Any] = {}

    async def ensure_enabled() -> None:
        if not re_enabled:
            await admin.enable()

    s.defer(ensure_enabled)
    old = {"a token of the deleted configuration": f"Bearer {token}"}
    old["a static token of the deleted configuration"] = f"Bearer {static}"
    old["Basic with the deleted credentials"] = scim.basic_header(client_id, secret)
    await _old_credentials_refused(s, client_id, secret, old, "after deletion")
    re_enabled.update(await admin.enable())
    await _old_credentials_refused(s, client_id, secret, old, "after enabling anew")
    probe = await _probe(s, await s.authorization())
    s.expect(probe.status_code == 200, "the new credentials do not work", probe)
