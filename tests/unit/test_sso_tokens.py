"""ID token checks (OpenID Connect Core §3.1.3.7) and PKCE (RFC 7636), with tokens minted by
the simulated identity providers."""

from __future__ import annotations

import base64
import hashlib
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from server.sso.oidc import IdpMetadata, TokenRejected, authorize_url, pkce_pair
from server.sso.oidc import verify_id_token as verify
from simulators.idp import ENTRA, GOOGLE, OKTA, IdpPerson, SimulatedOidcIdp

DANA = IdpPerson("dana", "dana.lee@contoso.org", "Dana", "Lee")
NONCE = "n-0S6_WzA2Mj"


@pytest.fixture(scope="module")
def entra() -> SimulatedOidcIdp:
    return SimulatedOidcIdp(ENTRA, tenant="11111111-2222-3333-4444-555555555555", people=[DANA])


def _keys(idp: SimulatedOidcIdp) -> KeySet:
    reply = idp.jwks()
    assert reply.json is not None
    return KeySet.import_key_set(reply.json)  # type: ignore[arg-type]


def _check(idp: SimulatedOidcIdp, token: str, **changes: object) -> dict[str, object]:
    expected: dict[str, object] = {
        "issuer": idp.issuer,
        "client_id": "app",
        "nonce": NONCE,
        "now": int(time.time()),
    }
    expected.update(changes)
    return verify(token, _keys(idp), **expected)  # type: ignore[arg-type]


def _reason(idp: SimulatedOidcIdp, token: str, **changes: object) -> str:
    with pytest.raises(TokenRejected) as caught:
        _check(idp, token, **changes)
    return caught.value.reason


@pytest.mark.parametrize("dialect", [ENTRA, OKTA, GOOGLE], ids=lambda d: d.name)
def test_each_idp_token_is_accepted_with_its_own_claims(dialect: object) -> None:
    idp = SimulatedOidcIdp(dialect, tenant="contoso", people=[DANA])  # type: ignore[arg-type]
    claims = _check(idp, idp.id_token(DANA, "app", nonce=NONCE))
    if idp.dialect.name == "entra":
        assert claims["iss"] == "https://login.microsoftonline.com/contoso/v2.0"
        assert claims["oid"] == DANA.object_id
        assert claims["sub"] != DANA.object_id  # pairwise, never the oid
        assert claims["preferred_username"] == DANA.user_name
        assert claims["tid"] == "contoso"
    elif idp.dialect.name == "okta":
        assert claims["sub"] == DANA.okta_id
        assert str(claims["sub"]).startswith("00u")
        assert claims["email"] == DANA.user_name
    else:
        assert claims["iss"] == "https://accounts.google.com"
        assert str(claims["sub"]).isdigit()
        assert claims["hd"] == "contoso.org"


def test_a_token_signed_with_another_key_of_the_same_kid_is_refused(
    entra: SimulatedOidcIdp,
) -> None:
    impostor = RSAKey.generate_key(2048, parameters={"kid": entra.key.kid})
    token = entra.id_token(DANA, "app", nonce=NONCE, key=impostor)
    assert _reason(entra, token) == "bad_signature"


def test_a_token_from_another_practices_idp_is_refused(entra: SimulatedOidcIdp) -> None:
    other = SimulatedOidcIdp(OKTA, tenant="elsewhere", people=[DANA])
    token = other.id_token(DANA, "app", nonce=NONCE)
    forged = jwt.encode(
        {"alg": "RS256", "kid": entra.key.kid},
        jwt.decode(token, _keys(other)).claims,
        other.key,
    )
    assert _reason(entra, forged) == "foreign_idp"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "https://login.microsoftonline.com/another-tenant/v2.0"}, "foreign_idp"),
        ({"aud": "another-practices-app"}, "foreign_idp"),
        ({"aud": ["app", "other"]}, "foreign_idp"),  # several audiences and no azp
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"nonce": "replayed-nonce"}, "nonce_mismatch"),
    ],
)
def test_claims_that_do_not_fit_are_refused(
    entra: SimulatedOidcIdp, changes: dict[str, object], reason: str
) -> None:
    changes = dict(changes)
    nonce = str(changes.pop("nonce", NONCE))
    token = entra.id_token(DANA, "app", nonce=nonce, **changes)
    assert _reason(entra, token) == reason


def test_a_missing_nonce_is_refused(entra: SimulatedOidcIdp) -> None:
    assert _reason(entra, entra.id_token(DANA, "app", nonce=None)) == "nonce_mismatch"


def test_several_audiences_with_azp_naming_the_client_are_accepted(entra: SimulatedOidcIdp) -> None:
    token = entra.id_token(DANA, "app", nonce=NONCE, aud=["app", "api"], azp="app")
    assert _check(entra, token)["azp"] == "app"


def test_expiry_allows_a_minute_of_clock_skew(entra: SimulatedOidcIdp) -> None:
    token = entra.id_token(DANA, "app", nonce=NONCE, exp=int(time.time()) - 30)
    assert _check(entra, token)["oid"] == DANA.object_id


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_unsigned_or_symmetric_tokens_are_refused(entra: SimulatedOidcIdp, alg: str) -> None:
    claims = jwt.decode(entra.id_token(DANA, "app", nonce=NONCE), _keys(entra)).claims
    if alg == "none":
        header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
        body = jwt.encode({"alg": "RS256"}, claims, entra.key).split(".")[1]
        token = f"{header}.{body}."
    else:
        token = jwt.encode({"alg": "HS256"}, claims, OctKey.generate_key(256))
    with pytest.raises(TokenRejected):
        _check(entra, token)


def test_pkce_pair_is_s256_and_reaches_the_authorize_request() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    meta = IdpMetadata("iss", "https://idp.example/authorize?x=1", "t", "j")
    url = authorize_url(
        meta,
        client_id="app",
        redirect_uri="https://rp/cb",
        state="s",
        nonce="n",
        code_challenge=challenge,
    )
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge"] == [challenge]
    assert query["code_challenge_method"] == ["S256"]
    assert query["x"] == ["1"]
    assert {"state", "nonce", "redirect_uri", "client_id"} <= set(query)


def test_the_simulated_idp_enforces_pkce_and_one_time_codes(entra: SimulatedOidcIdp) -> None:
    entra.register_client("app", "secret", ["https://rp/cb"])
    verifier, challenge = pkce_pair()
    params = {
        "client_id": "app",
        "redirect_uri": "https://rp/cb",
        "response_type": "code",
        "scope": "openid",
        "state": "s",
        "nonce": NONCE,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "login_hint": "dana",
    }
    code = parse_qs(urlsplit(entra.authorize(params).headers["Location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://rp/cb",
        "client_id": "app",
        "client_secret": "secret",
    }
    assert entra.token({**form, "code_verifier": "wrong" * 10}, None).status == 400
    code = parse_qs(urlsplit(entra.authorize(params).headers["Location"]).query)["code"][0]
    form["code"] = code
    good = entra.token({**form, "code_verifier": verifier}, None)
    assert good.status == 200
    assert good.json is not None
    assert "id_token" in good.json
    assert entra.token({**form, "code_verifier": verifier}, None).status == 400  # code reused
