"""SSO linking over SAML 2.0 (SL-006..SL-010: SL-001..SL-005 again, through a simulated
Entra ID speaking SAML) and the attacks a SAML service provider must refuse (SL-011..SL-019),
each made by the suite's evil IdP (``simulators.idp.Attack``).

Rules: SAML 2.0 Core (OASIS saml-core-2.0-os) §2.5 conditions, §3.2.2 InResponseTo and
Destination; Profiles (saml-profiles-2.0-os) §4.1.4.3 and §4.1.4.5 for the Web Browser SSO
response (signed assertion, bearer SubjectConfirmationData Recipient, NotOnOrAfter, audience,
one use of an assertion id); XML Signature wrapping (Somorovsky et al., USENIX Security 2012);
XML entity attacks (OWASP XXE). Each attack check first signs the attacker in without the
attack, so a platform whose SAML sign-in does not work at all fails instead of passing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance import sso_linking
from conformance.registry import check
from conformance.saml import saml_sso
from simulators.idp import Attack

if TYPE_CHECKING:
    from conformance.saml import SamlSso
    from conformance.session import Session

SAML_RULE = "platform rule: SCIM with SSO (SAML 2.0)"
PROFILES = "SAML 2.0 Profiles §4.1.4.3, §4.1.4.5"
OTHER_SP = ("https://other-practice.example/sso/x/saml/metadata", "https://other.example/acs")


@check("SL-006", "SAML: a provisioned user signs in with no linking", rule=SAML_RULE)
async def saml_signs_in(s: Session) -> None:
    """Platform rule (SCIM with SSO), over SAML 2.0: a user created over SCIM is linked at
    provisioning (NameID = userName) and signs in through the IdP at once, with no manual
    linking and no platform password."""
    await sso_linking.signs_in_with(s, saml_sso)


@check("SL-007", "SAML: no standalone credentials for SSO users", rule=SAML_RULE)
async def saml_no_password(s: Session) -> None:
    """Platform rule (SCIM with SSO), over SAML 2.0: forgot-password tells a SAML-linked
    user to sign in through their organisation and mints no password."""
    await sso_linking.no_password_with(s, saml_sso)


@check("SL-008", "SAML: a deactivated user's sign-in is refused", rule=SAML_RULE)
async def saml_deactivated_refused(s: Session) -> None:
    """Platform rule (deactivation blocks sign-in), over SAML 2.0: after ``active=false``
    arrives over SCIM, a valid assertion for the user is refused."""
    await sso_linking.deactivated_refused_with(s, saml_sso)


@check("SL-009", "SAML: a deleted user's sign-in is refused", rule=SAML_RULE + "; RFC 7644 §3.6")
async def saml_deleted_refused(s: Session) -> None:
    """Platform rule with RFC 7644 §3.6, over SAML 2.0: after a SCIM DELETE, a valid
    assertion for the user is refused."""
    await sso_linking.deleted_refused_with(s, saml_sso)


@check("SL-010", "SAML: an identity never provisioned cannot sign in", rule=SAML_RULE)
async def saml_unknown_refused(s: Session) -> None:
    """Platform rule (accounts come from provisioning), over SAML 2.0: a valid assertion for
    an identity nobody provisioned is refused and creates no account, even when its email
    attribute is a provisioned user's."""
    await sso_linking.unknown_refused_with(s, saml_sso)


async def _attacked(s: Session, *attacks: Attack, idp_initiated: bool | None = None) -> SamlSso:
    """Eve and Dana provisioned; Eve signs in once normally; then each attack (claiming Dana
    where it can) must open no session."""
    harness = await saml_sso(s, idp_initiated=idp_initiated)
    harness.idp.register_sp(*OTHER_SP)
    eve, dana = harness.person("eve"), harness.person("dana")
    await harness.provision(dana)
    await harness.provision(eve)
    await harness.expect_signed_in(eve)
    harness.idp.victim = dana
    for attack in attacks:
        attempt = await harness.sign_in(eve, attack)
        status = attempt.callback.status_code
        s.expect(status < 500, f"the ACS answered {status} to the {attack} attack", None)
        if attempt.cookies:
            account = await harness.console(attempt.cookies)
            if account.status_code == 200:
                s.fail(f"a SAML response with the {attack} attack opened a session", account)
    return harness


@check("SL-011", "SAML: an unsigned response and assertion are refused", rule=PROFILES)
async def unsigned_refused(s: Session) -> None:
    """SAML 2.0 Profiles §4.1.4.5: the assertion (or the response around it) must be signed
    by the IdP; a response where neither is signed is refused."""
    await _attacked(s, Attack.UNSIGNED)


@check("SL-012", "SAML: a signature by an unknown certificate is refused", rule=PROFILES)
async def unknown_key_refused(s: Session) -> None:
    """SAML 2.0 Profiles §4.1.4.5 and Metadata §2.4.1.1: only the IdP's published signing
    certificates are trusted; one embedded in the response (KeyInfo) is not."""
    await _attacked(s, Attack.UNKNOWN_KEY)


@check("SL-013", "SAML: an assertion modified after signing is refused", rule=PROFILES)
async def modified_refused(s: Session) -> None:
    """SAML 2.0 Core §5.4 with XML Signature (xmldsig-core §3.2): a NameID changed after the
    IdP signed the assertion breaks the reference digest; the response is refused."""
    await _attacked(s, Attack.MODIFIED)


@check("SL-014", "SAML: signature wrapping is refused", rule="SAML 2.0 Core §5.4.2; XSW")
async def wrapping_refused(s: Session) -> None:
    """SAML 2.0 Core §5.4.2 (the signature covers the assertion it references) against
    signature wrapping (Somorovsky et al. 2012): a second, unsigned assertion for another
    person placed before or after the signed one, the signed one hidden in samlp:Extensions
    or in the forged assertion's ds:Object, or a forged response around the signed one; each
    is refused."""
    await _attacked(
        s,
        Attack.WRAP_BEFORE,
        Attack.WRAP_AFTER,
        Attack.WRAP_EXTENSIONS,
        Attack.WRAP_IN_SIGNATURE,
        Attack.WRAP_RESPONSE,
    )


@check(
    "SL-015",
    "SAML: Audience, Recipient, Destination and InResponseTo must fit",
    rule="SAML 2.0 Core §2.5.1.4, §3.2.2; " + PROFILES,
)
async def addressing_refused(s: Session) -> None:
    """SAML 2.0 Core §2.5.1.4 (AudienceRestriction), §3.2.2 (Destination, InResponseTo) and
    Profiles §4.1.4.3 (Recipient): a response for another audience, recipient or
    destination, for another practice's SP, or answering a request this browser did not
    make, is refused."""
    await _attacked(
        s,
        Attack.AUDIENCE,
        Attack.RECIPIENT,
        Attack.DESTINATION,
        Attack.IN_RESPONSE_TO,
        Attack.OTHER_SP,
    )


@check(
    "SL-016", "SAML: expired or not-yet-valid assertions are refused", rule="SAML 2.0 Core §2.5.1.2"
)
async def time_window_refused(s: Session) -> None:
    """SAML 2.0 Core §2.5.1.2: an assertion past NotOnOrAfter, or before NotBefore, by more
    than any reasonable clock skew (an hour) is refused."""
    await _attacked(s, Attack.EXPIRED, Attack.NOT_YET_VALID)


@check("SL-017", "SAML: a replayed assertion is refused", rule="SAML 2.0 Profiles §4.1.4.5")
async def replay_refused(s: Session) -> None:
    """SAML 2.0 Profiles §4.1.4.5: the SP keeps used assertion ids until they expire and
    refuses one presented again (IdP-initiated sign-in turned on, so only the replay cache
    stands in the way)."""
    harness = await saml_sso(s, idp_initiated=True)
    person = harness.person("replay")
    await harness.provision(person)
    _, response = harness.idp.idp_initiated(person, harness.sp_entity_id)
    first = await harness.post({"SAMLResponse": response})
    opened = first.callback.status_code in {302, 303} and bool(first.cookies)
    s.expect(opened, "an IdP-initiated sign-in (turned on) did not open a session", first.callback)
    again = await harness.post({"SAMLResponse": response})
    if again.cookies and (await harness.console(again.cookies)).status_code == 200:
        s.fail("the same SAML assertion signed in a second time", again.callback)


@check(
    "SL-018",
    "SAML: XML with a DOCTYPE or external entity is refused",
    rule="platform rule: entity expansion off (OWASP XXE)",
)
async def doctype_refused(s: Session) -> None:
    """Platform rule (XML parsed with entity expansion off; OWASP XXE prevention): a SAML
    response carrying a DOCTYPE with an
    internal or an external (SYSTEM) entity is refused, not expanded."""
    await _attacked(s, Attack.DOCTYPE, Attack.EXTERNAL_ENTITY)


@check("SL-019", "SAML: IdP-initiated sign-in is off by default", rule=SAML_RULE)
async def idp_initiated_off(s: Session) -> None:
    """Platform rule: IdP-initiated sign-in cannot be bound to a request the browser made, so
    it is off unless the practice turns it on: a valid unsolicited response for a
    provisioned user opens no session when the configuration did not ask for it."""
    harness = await saml_sso(s)
    person = harness.person("portal")
    await harness.provision(person)
    attempt = await harness.idp_initiated(person)
    s.expect(attempt.callback.status_code < 500, "the ACS failed on an unsolicited response", None)
    if attempt.cookies and (await harness.console(attempt.cookies)).status_code == 200:
        s.fail("an IdP-initiated sign-in opened a session though nobody turned it on", None)
