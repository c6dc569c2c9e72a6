"""Defence in depth for SAML: with scimlab's own defusedxml screen taken away, pysaml2 and
xmlsec1 alone still refuse every signature-wrapping placement and every DOCTYPE/entity
response the evil IdP makes (and the screen alone refuses them too: tests/console)."""

from __future__ import annotations

import pytest

from server.domain.saml import SamlIdp
from server.sso import saml
from server.sso.saml import AssertionRejected, SpIdentity, authn_request, verify_response
from server.sso.saml_metadata import new_sp_key, parse_idp_metadata
from simulators.idp import SAML_ENTRA, Attack, IdpPerson, SimulatedSamlIdp

SP = "https://scimlab.test/sso/p/saml/metadata"
ACS = "https://scimlab.test/sso/p/saml/acs"
ATTACKS = [
    Attack.WRAP_BEFORE,
    Attack.WRAP_AFTER,
    Attack.WRAP_EXTENSIONS,
    Attack.WRAP_IN_SIGNATURE,
    Attack.WRAP_RESPONSE,
    Attack.DOCTYPE,
    Attack.EXTERNAL_ENTITY,
]


@pytest.fixture(scope="module")
def parties() -> tuple[SpIdentity, SamlIdp, SimulatedSamlIdp]:
    key, cert = new_sp_key("sp")
    idp = SimulatedSamlIdp(SAML_ENTRA, tenant="contoso")
    idp.add_person(IdpPerson("eve", "eve@contoso.org"))
    idp.victim = idp.add_person(IdpPerson("dana", "dana@contoso.org"))
    idp.register_sp(SP, ACS)
    meta = parse_idp_metadata(idp.metadata())
    return (
        SpIdentity(SP, ACS, key, cert),
        SamlIdp(meta.entity_id, meta.sso_url, meta.certificates),
        idp,
    )


@pytest.fixture
def unscreened(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(saml, "_screened", lambda response, acs: b"")


def test_a_good_response_passes_without_the_screen_too(
    parties: tuple[SpIdentity, SamlIdp, SimulatedSamlIdp], unscreened: None
) -> None:
    sp, config, idp = parties
    request_id, _ = authn_request(sp, config, relay_state="state")
    eve = idp.people["eve"]
    good = idp.response(eve, SP, ACS, in_response_to=request_id)
    assert verify_response(sp, config, good, request_id=request_id).name_id == eve.user_name


@pytest.mark.parametrize("attack", ATTACKS)
def test_pysaml2_alone_refuses_wrapping_and_entities(
    parties: tuple[SpIdentity, SamlIdp, SimulatedSamlIdp], unscreened: None, attack: Attack
) -> None:
    sp, config, idp = parties
    request_id, _ = authn_request(sp, config, relay_state="state")
    evil = idp.response(idp.people["eve"], SP, ACS, in_response_to=request_id, attack=attack)
    with pytest.raises(AssertionRejected):
        verify_response(sp, config, evil, request_id=request_id)
