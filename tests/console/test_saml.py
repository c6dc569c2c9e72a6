"""SAML 2.0 sign-in with linking at provisioning, in-process: the app, the simulated SAML
identity providers on loopback (real signatures), SCIM creating the people."""

from __future__ import annotations

import base64
import logging
import re
import zlib
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit
from uuid import UUID

import pytest

from server.domain.sso import LinkRule
from server.sso.saml_setup import SamlInput, configure_saml
from simulators.idp import Attack, IdpPerson
from tests.console.helpers import PATCH_SCHEMA, ConsolePractice, new_console_practice, scim_headers
from tests.console.saml_helpers import (
    configure_saml_sso,
    post_to_acs,
    saml_scim_body,
    saml_sign_in,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.testing import AsyncTestClient

    from server.services import Services
    from simulators.idp import SimulatedSamlIdp

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


def _person(key: str) -> IdpPerson:
    return IdpPerson(key, f"{key}@contoso.org", key.title(), "Mensah")


async def _audit(services: Services, practice: ConsolePractice, action: str) -> list[str]:
    entries = await services.practices.audit_log(practice.uuid)
    return [e.detail for e in entries if e.action == action]


async def _provision(
    web: AsyncTestClient[Any],
    practice: ConsolePractice,
    idp: SimulatedSamlIdp,
    person: IdpPerson,
) -> str:
    response = await web.post(
        f"/scim/v2/{practice.id}/Users",
        json=saml_scim_body(idp, person),
        headers=await scim_headers(web, practice),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _refused(
    web: AsyncTestClient[Any],
    response: Any,
    services: Services,
    practice: ConsolePractice,
    reason: str,
) -> None:
    assert response.status_code == 403, response.text
    assert "Sign-in refused" in response.text
    assert "scimlab_session" not in web.cookies
    details = await _audit(services, practice, "sso.refused")
    assert any(f"reason={reason}" in d for d in details), details


async def test_sp_metadata_is_served_before_saml_is_chosen_and_stays_the_same(
    web: AsyncTestClient[Any], console_practice: ConsolePractice, services: Services
) -> None:
    url = f"/sso/{console_practice.id}/saml/metadata"
    first, second = await web.get(url), await web.get(url)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("application/samlmetadata+xml")
    assert first.text == second.text  # the key pair is made once, then kept
    entity = services.saml.entity_id(console_practice.uuid)
    assert f'entityID="{entity}"' in first.text
    acs = services.saml.acs_url(console_practice.uuid)
    assert re.search(rf'Binding="[^"]+HTTP-POST"\s+Location="{re.escape(acs)}"', first.text)
    assert re.search(r'KeyDescriptor use="signing"', first.text)
    assert "X509Certificate>" in first.text
    other = await new_console_practice(services)
    assert (await web.get(f"/sso/{other.id}/saml/metadata")).text != first.text
    missing = await web.get("/sso/00000000-0000-4000-8000-000000000000/saml/metadata")
    assert missing.status_code == 404


@pytest.mark.parametrize("dialect", ["entra", "okta", "google"])
async def test_a_freshly_provisioned_user_signs_in_through_each_saml_idp(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
    dialect: str,
) -> None:
    idp = start_saml_idp(dialect, tenant=TENANT if dialect == "entra" else "contoso")
    await configure_saml_sso(services, console_practice, idp)
    person = idp.add_person(_person(f"kofi-{dialect}"))
    staff_id = await _provision(web, console_practice, idp, person)
    staff = await services.staff_admin.get_staff(console_practice.uuid, UUID(staff_id))
    assert staff.user.sso_issuer == idp.entity_id
    assert staff.user.sso_subject == person.user_name.casefold()
    assert staff.user.has_password is False

    idp.sign_in_as(person.key)
    acs = await saml_sign_in(web, console_practice)
    assert acs.status_code == 303, acs.text
    assert acs.headers["location"] == "/console"
    account = await web.get("/console/account")
    assert person.user_name in account.text
    succeeded = await _audit(services, console_practice, "sign_in.succeeded")
    assert any("method=sso saml nameid" in d for d in succeeded), succeeded


async def test_the_nameid_matches_the_username_whatever_the_case(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
) -> None:
    idp = start_saml_idp("okta")
    await configure_saml_sso(services, console_practice, idp)
    person = idp.add_person(IdpPerson("ama", "Ama.Owusu@Contoso.org", "Ama", "Owusu"))
    await _provision(web, console_practice, idp, IdpPerson("ama", "AMA.OWUSU@contoso.ORG"))
    idp.sign_in_as(person.key)
    assert (await saml_sign_in(web, console_practice)).status_code == 303


async def test_entra_objectidentifier_rule_links_by_external_id(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
) -> None:
    idp = start_saml_idp("entra", tenant=TENANT)
    await configure_saml_sso(services, console_practice, idp, rule=LinkRule.SAML_OBJECTID)
    person = idp.add_person(_person("yaw"))
    staff_id = await _provision(web, console_practice, idp, person)
    staff = await services.staff_admin.get_staff(console_practice.uuid, UUID(staff_id))
    assert staff.user.sso_subject == person.object_id
    idp.sign_in_as(person.key)
    assert (await saml_sign_in(web, console_practice)).status_code == 303


@pytest.mark.parametrize("how", ["patch", "delete", "never"])
async def test_deactivated_deleted_and_unprovisioned_people_are_refused_and_audited(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
    how: str,
) -> None:
    idp = start_saml_idp("google")
    await configure_saml_sso(services, console_practice, idp)
    person = idp.add_person(_person(f"esi-{how}"))
    if how != "never":
        staff_id = await _provision(web, console_practice, idp, person)
        url = f"/scim/v2/{console_practice.id}/Users/{staff_id}"
        headers = await scim_headers(web, console_practice)
        if how == "patch":
            off = {
                "schemas": [PATCH_SCHEMA],
                "Operations": [{"op": "replace", "value": {"active": False}}],
            }
            assert (await web.patch(url, json=off, headers=headers)).status_code == 200
        else:
            assert (await web.delete(url, headers=headers)).status_code == 204
    idp.sign_in_as(person.key)
    acs = await saml_sign_in(web, console_practice)
    reason = {"patch": "deactivated", "delete": "deleted", "never": "not_provisioned"}[how]
    await _refused(web, acs, services, console_practice, reason)
    text = {"patch": "deactivated", "delete": "removed", "never": "has not been set up"}[how]
    assert text in acs.text
    staff = await services.staff_admin.list_staff(console_practice.uuid)
    assert len(staff) == (1 if how == "never" else 2)  # nothing created at sign-in


async def test_idp_initiated_sign_in_is_refused_while_off_and_works_when_on(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
) -> None:
    idp = start_saml_idp("okta")
    await configure_saml_sso(services, console_practice, idp)
    person = idp.add_person(_person("abena"))
    await _provision(web, console_practice, idp, person)
    sp = services.saml.entity_id(console_practice.uuid)

    _, response = idp.idp_initiated(person, sp)
    refused = await post_to_acs(web, console_practice, response)
    await _refused(web, refused, services, console_practice, "idp_initiated")
    assert "app portal is turned off" in refused.text

    await configure_saml_sso(services, console_practice, idp, idp_initiated=True)
    _, response = idp.idp_initiated(person, sp)
    accepted = await post_to_acs(web, console_practice, response, relay="/console")
    assert accepted.status_code == 303, accepted.text
    assert "scimlab_session" in web.cookies


async def test_a_replayed_assertion_is_refused(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
) -> None:
    idp = start_saml_idp("entra", tenant=TENANT)
    await configure_saml_sso(services, console_practice, idp, idp_initiated=True)
    person = idp.add_person(_person("kwame"))
    await _provision(web, console_practice, idp, person)
    _, response = idp.idp_initiated(person, services.saml.entity_id(console_practice.uuid))
    assert (await post_to_acs(web, console_practice, response)).status_code == 303
    web.cookies.clear()
    again = await post_to_acs(web, console_practice, response)
    await _refused(web, again, services, console_practice, "replayed")


async def test_an_answer_to_another_request_or_none_is_refused_in_sp_initiated_sign_in(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
) -> None:
    """With a state cookie (SP-initiated) the response must answer this browser's request;
    an unsolicited one is refused even when IdP-initiated sign-in is on."""
    idp = start_saml_idp("okta")
    await configure_saml_sso(services, console_practice, idp, idp_initiated=True)
    person = idp.add_person(_person("efua"))
    await _provision(web, console_practice, idp, person)
    started = await web.get(f"/sso/{console_practice.id}/start")
    relay = re.search(r"RelayState=([^&]+)", started.headers["location"])
    assert relay
    _, unsolicited = idp.idp_initiated(person, services.saml.entity_id(console_practice.uuid))
    refused = await post_to_acs(web, console_practice, unsolicited, relay=unquote(relay.group(1)))
    await _refused(web, refused, services, console_practice, "in_response_to")


REASONS = {
    Attack.UNSIGNED: "unsigned",
    Attack.UNKNOWN_KEY: "bad_signature",
    Attack.MODIFIED: "bad_signature",
    Attack.WRAP_BEFORE: "wrapping",
    Attack.WRAP_AFTER: "wrapping",
    Attack.WRAP_EXTENSIONS: "wrapping",
    Attack.WRAP_IN_SIGNATURE: "wrapping",
    Attack.WRAP_RESPONSE: "wrapping",
    Attack.AUDIENCE: "audience",
    Attack.RECIPIENT: "recipient",
    Attack.DESTINATION: "destination",
    Attack.IN_RESPONSE_TO: "in_response_to",
    Attack.EXPIRED: "expired",
    Attack.NOT_YET_VALID: "expired",
    Attack.OTHER_SP: "destination",
    Attack.DOCTYPE: "xml_dtd",
    Attack.EXTERNAL_ENTITY: "xml_dtd",
}


@pytest.mark.parametrize("attack", list(Attack))
async def test_each_attack_of_an_evil_idp_is_refused(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
    attack: Attack,
) -> None:
    """Entra signs only the assertion: the shape that signature wrapping targets. The evil
    IdP signs Eve in and claims Dana, a provisioned user, wherever the attack can."""
    idp = start_saml_idp("entra", tenant=TENANT)
    if attack is Attack.OTHER_SP:  # another practice's SP, registered at the same IdP
        other = (await new_console_practice(services)).uuid
        idp.register_sp(services.saml.entity_id(other), services.saml.acs_url(other))
    await configure_saml_sso(services, console_practice, idp)
    eve, dana = idp.add_person(_person("eve")), idp.add_person(_person("dana"))
    await _provision(web, console_practice, idp, dana)
    await _provision(web, console_practice, idp, eve)
    idp.sign_in_as(eve.key)
    idp.victim, idp.evil = dana, attack
    acs = await saml_sign_in(web, console_practice)
    await _refused(web, acs, services, console_practice, REASONS[attack])
    succeeded = await _audit(services, console_practice, "sign_in.succeeded")
    assert not any("sso" in d for d in succeeded)


async def test_the_idp_rotates_its_certificate_with_two_valid_at_once(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
) -> None:
    idp = start_saml_idp("google")
    idp.start_rotation()
    await configure_saml_sso(services, console_practice, idp)
    config = await services.sso_configs.get(console_practice.uuid)
    assert config is not None
    assert config.saml is not None
    assert len(config.saml.certificates) == 2
    person = idp.add_person(_person("adjoa"))
    await _provision(web, console_practice, idp, person)
    idp.sign_in_as(person.key)
    assert (await saml_sign_in(web, console_practice)).status_code == 303
    idp.finish_rotation()  # now signing with the second certificate
    web.cookies.clear()
    assert (await saml_sign_in(web, console_practice)).status_code == 303


async def test_refusals_are_audited_not_logged_as_errors_by_pysaml2(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """pysaml2 logs each refused response at ERROR with xmlsec1's output; the app's logging
    set-up keeps that out (the audit log has the reason)."""
    idp = start_saml_idp("okta")
    await configure_saml_sso(services, console_practice, idp)
    person = idp.add_person(_person("kojo"))
    await _provision(web, console_practice, idp, person)
    idp.sign_in_as(person.key)
    idp.evil = Attack.MODIFIED
    with caplog.at_level(logging.DEBUG):
        acs = await saml_sign_in(web, console_practice)
    await _refused(web, acs, services, console_practice, "bad_signature")
    assert not [r for r in caplog.records if r.name.startswith("saml2")]


async def test_the_authn_request_is_signed_and_names_the_acs_and_nameid_format(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
) -> None:
    idp = start_saml_idp("google")
    idp.register_sp(
        services.saml.entity_id(console_practice.uuid), services.saml.acs_url(console_practice.uuid)
    )
    email = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    given = SamlInput(
        link_rule=LinkRule.SAML_NAMEID.value,
        metadata_url=idp.metadata_url,
        name_id_format=email,
    )
    await configure_saml(services.sso_configs, console_practice.uuid, given, actor="test")
    started = await web.get(f"/sso/{console_practice.id}/start")
    assert started.status_code == 303
    location = started.headers["location"]
    assert location.startswith(idp.sso_url + "&SAMLRequest=")  # Google's ?idpid= is kept
    query = dict(parse_qsl(urlsplit(location).query))
    assert query["SigAlg"].endswith("rsa-sha256")
    assert query["Signature"]
    assert query["RelayState"] == web.cookies["scimlab_sso"]
    request = zlib.decompress(base64.b64decode(query["SAMLRequest"]), -15).decode()
    assert (
        f'AssertionConsumerServiceURL="{services.saml.acs_url(console_practice.uuid)}"' in request
    )
    assert f'Format="{email}"' in request
    assert services.saml.entity_id(console_practice.uuid) in request


async def test_a_rotation_at_the_idp_is_picked_up_from_its_metadata_url(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
) -> None:
    """The IdP replaces its certificate without the administrator: the first response signed
    by the new one sends scimlab back to the metadata URL once, and the sign-in goes on."""
    idp = start_saml_idp("entra", tenant=TENANT)
    await configure_saml_sso(services, console_practice, idp)
    person = idp.add_person(_person("akua"))
    await _provision(web, console_practice, idp, person)
    idp.sign_in_as(person.key)
    idp.start_rotation()
    idp.finish_rotation()  # the metadata now names only the new certificate
    acs = await saml_sign_in(web, console_practice)
    assert acs.status_code == 303, acs.text
    config = await services.sso_configs.get(console_practice.uuid)
    assert config is not None
    assert config.saml is not None
    assert config.saml.certificates == (idp.key.certificate_pem.strip(),)
    audit = await services.practices.audit_log(console_practice.uuid)
    assert any(e.actor == "sso:metadata-refresh" and e.action == "sso.configured" for e in audit)


async def test_without_a_metadata_url_an_unknown_certificate_stays_refused(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
) -> None:
    idp = start_saml_idp("okta")
    idp.register_sp(
        services.saml.entity_id(console_practice.uuid), services.saml.acs_url(console_practice.uuid)
    )
    given = SamlInput(link_rule=LinkRule.SAML_NAMEID.value, metadata_xml=idp.metadata())
    await configure_saml(services.sso_configs, console_practice.uuid, given, actor="test")
    person = idp.add_person(_person("yaa"))
    await _provision(web, console_practice, idp, person)
    idp.sign_in_as(person.key)
    idp.start_rotation()
    idp.finish_rotation()
    acs = await saml_sign_in(web, console_practice)
    await _refused(web, acs, services, console_practice, "bad_signature")
