"""TOTP acceptance (RFC 6238 window, no replay), SSO link rules, NPI check digits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pyotp
import pytest

from server.console.render import cookie
from server.domain.mfa import STEP_SECONDS, accepted_step, new_totp_secret, provisioning_uri
from server.domain.signin import LOCKOUT, MAX_FAILURES
from server.domain.sso import LinkRule, SsoConfig, link_for, subject_from_claims
from server.domain.staff import StaffProfile
from server.domain.team import npi_is_valid
from server.settings import Settings
from tests.look_alikes import DISTINCT, SAME

NOW = datetime(2026, 6, 24, 12, 0, 10, tzinfo=UTC)
STEP = int(NOW.timestamp()) // STEP_SECONDS


def _code(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)]
)
def test_codes_are_accepted_one_step_either_side(offset: int, accepted: bool) -> None:
    secret = new_totp_secret()
    step = accepted_step(secret, _code(secret, STEP + offset), now=NOW, last_step=None)
    assert (step == STEP + offset) is accepted
    assert (step is None) is not accepted


def test_a_used_code_or_an_older_one_is_refused() -> None:
    secret = new_totp_secret()
    assert accepted_step(secret, _code(secret, STEP), now=NOW, last_step=STEP) is None
    assert accepted_step(secret, _code(secret, STEP - 1), now=NOW, last_step=STEP) is None
    assert accepted_step(secret, _code(secret, STEP + 1), now=NOW, last_step=STEP) == STEP + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5"])
def test_malformed_codes_are_refused(code: str) -> None:
    assert accepted_step(new_totp_secret(), code, now=NOW, last_step=None) is None


def test_spaces_inside_a_code_are_ignored() -> None:
    secret = new_totp_secret()
    code = _code(secret, STEP)
    assert accepted_step(secret, f"{code[:3]} {code[3:]}", now=NOW, last_step=None) == STEP


def test_provisioning_uri_names_the_account_and_issuer() -> None:
    uri = provisioning_uri(
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", account="admin (Sunrise)", issuer="scimlab"
    )
    assert uri.startswith(
        "otpauth://totp/scimlab:admin%20%28Sunrise%29?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    )
    assert "issuer=scimlab" in uri


def _config(rule: LinkRule) -> SsoConfig:
    now = datetime.now(UTC)
    return SsoConfig(
        practice_id=uuid4(),
        issuer="https://idp.example",
        client_id="app",
        client_secret="",
        link_rule=rule,
        metadata_url=None,
        created_at=now,
        updated_at=now,
    )


PROFILE = StaffProfile(
    user_name="Dana.Lee@Example.org", external_id="00uAbCdEf123", email="dana@example.org"
)


@pytest.mark.parametrize(
    ("rule", "subject"),
    [
        (LinkRule.ENTRA_OID, "00uabcdef123"),  # a GUID in practice: any case matches
        (LinkRule.ENTRA_UPN, "dana.lee@example.org"),
        (LinkRule.OKTA_SUB, "00uAbCdEf123"),  # Okta ids are compared exactly
        (LinkRule.GOOGLE_EMAIL, "dana.lee@example.org"),
    ],
)
def test_links_come_from_the_attribute_the_rule_names(rule: LinkRule, subject: str) -> None:
    assert link_for(_config(rule), PROFILE) == ("https://idp.example", subject)


def test_no_link_without_sso_or_without_the_attribute() -> None:
    assert link_for(None, PROFILE) == (None, None)
    bare = StaffProfile(user_name="x@example.org")
    assert link_for(_config(LinkRule.OKTA_SUB), bare) == (None, None)


def test_claims_name_the_same_subject_whatever_their_case() -> None:
    claims = {"oid": "ABCD-ef", "preferred_username": "DANA.LEE@example.org", "sub": "00uX"}
    assert subject_from_claims(LinkRule.ENTRA_OID, claims) == "abcd-ef"
    assert subject_from_claims(LinkRule.ENTRA_UPN, claims) == "dana.lee@example.org"
    assert subject_from_claims(LinkRule.OKTA_SUB, claims) == "00uX"
    assert subject_from_claims(LinkRule.GOOGLE_EMAIL, claims) is None
    assert subject_from_claims(LinkRule.GOOGLE_EMAIL, {"email": 7}) is None


@pytest.mark.parametrize(
    ("npi", "valid"),
    [("1234567893", True), ("1234567890", False), ("123456789", False), ("12345678a3", False)],
)
def test_npi_check_digit(npi: str, valid: bool) -> None:
    assert npi_is_valid(npi) is valid


def test_lockout_window_is_a_quarter_hour() -> None:
    assert (5, timedelta(minutes=15)) == (MAX_FAILURES, LOCKOUT)


def test_console_cookies_are_secure_unless_configured_off() -> None:
    strict = cookie(Settings(), "scimlab_session", "t")
    assert (strict.secure, strict.httponly, strict.samesite) == (True, True, "lax")
    relaxed = Settings.from_env({"SCIMLAB_COOKIE_SECURE": "false"})
    assert relaxed.cookie_secure is False
    assert cookie(relaxed, "scimlab_session", "t").secure is False
    assert Settings.from_env({}).cookie_secure is True
    assert Settings.from_env({"SCIMLAB_SESSION_TTL": "60"}).session_ttl_seconds == 60


@pytest.mark.parametrize("rule", [LinkRule.ENTRA_UPN, LinkRule.GOOGLE_EMAIL])
@pytest.mark.parametrize(("provisioned", "claimed"), SAME)
def test_a_look_alike_claim_links_to_the_provisioned_user_name(
    rule: LinkRule, provisioned: str, claimed: str
) -> None:
    # SSO linking compares the key userName uniqueness uses (server.domain.text.text_key).
    _, subject = link_for(_config(rule), StaffProfile(user_name=f"{provisioned}@example.org"))
    assert subject_from_claims(rule, {rule.claim: f"{claimed}@example.org"}) == subject


@pytest.mark.parametrize("rule", [LinkRule.ENTRA_UPN, LinkRule.GOOGLE_EMAIL])
@pytest.mark.parametrize(("provisioned", "claimed"), DISTINCT)
def test_a_different_claim_does_not_link(rule: LinkRule, provisioned: str, claimed: str) -> None:
    _, subject = link_for(_config(rule), StaffProfile(user_name=f"{provisioned}@example.org"))
    assert subject_from_claims(rule, {rule.claim: f"{claimed}@example.org"}) != subject


def test_okta_ids_stay_exact_whatever_their_width() -> None:
    fullwidth = "\uff10\uff10\uff55AbC"  # fullwidth "00u", then "AbC"
    assert subject_from_claims(LinkRule.OKTA_SUB, {"sub": fullwidth}) == fullwidth
