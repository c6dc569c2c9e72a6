"""Choosing SAML 2.0 (or OpenID Connect) for a practice: the management API
(``/api/v1/practices/{id}/sso``) and the console page (Settings → Single Sign-On)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.console.helpers import csrf_of, sign_in_admin

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.testing import AsyncTestClient

    from server.services import Services
    from simulators.idp import SimulatedSamlIdp
    from tests.console.helpers import ConsolePractice


async def test_management_api_chooses_saml_from_uploaded_metadata_and_back_to_oidc(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
) -> None:
    idp = start_saml_idp("entra")
    url = f"/api/v1/practices/{console_practice.id}/sso"
    headers = {"Authorization": f"Bearer {console_practice.admin_api_key}"}
    body = {"protocol": "saml", "link_rule": "nameid:userName", "metadata_xml": idp.metadata()}
    saved = await web.put(url, json=body, headers=headers)
    assert saved.status_code == 200, saved.text
    shown = (await web.get(url, headers=headers)).json()
    assert shown["protocol"] == "saml"
    assert shown["issuer"] == idp.entity_id
    assert shown["saml"]["entity_id"] == idp.entity_id
    assert shown["saml"]["sso_url"] == idp.sso_url
    assert shown["saml"]["certificates"] == [idp.key.certificate_pem.strip()]
    assert shown["saml"]["idp_initiated"] is False  # off unless asked for
    assert shown["sp_metadata_url"] == shown["sp_entity_id"]
    assert shown["sp_metadata_url"].endswith(f"/sso/{console_practice.id}/saml/metadata")
    assert shown["acs_url"].endswith(f"/sso/{console_practice.id}/saml/acs")

    typed = {
        "protocol": "saml",
        "link_rule": "objectidentifier:externalId",
        "entity_id": idp.entity_id,
        "sso_url": idp.sso_url,
        "certificates": [idp.key.certificate_b64, idp.start_rotation().certificate_pem],
        "name_id_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        "idp_initiated": True,
    }
    saved = await web.put(url, json=typed, headers=headers)
    assert saved.status_code == 200, saved.text
    assert len(saved.json()["saml"]["certificates"]) == 2
    assert saved.json()["saml"]["idp_initiated"] is True

    oidc = {
        "issuer": "https://dev-1.okta.com/oauth2/default",
        "client_id": "0oa1",
        "link_rule": "sub:externalId",
    }
    back = await web.put(url, json=oidc, headers=headers)
    assert back.status_code == 200, back.text
    assert back.json()["protocol"] == "oidc"
    assert back.json()["saml"] is None
    audit = [e.detail for e in await services.practices.audit_log(console_practice.uuid)]
    assert any("protocol=saml" in d for d in audit)


async def test_management_api_refuses_saml_input_that_does_not_fit(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
) -> None:
    idp = start_saml_idp("okta")
    url = f"/api/v1/practices/{console_practice.id}/sso"
    headers = {"Authorization": f"Bearer {console_practice.admin_api_key}"}
    good = {"protocol": "saml", "link_rule": "nameid:userName", "metadata_xml": idp.metadata()}
    entity = '<!DOCTYPE m [<!ENTITY e "x">]>'
    bad = [
        {**good, "link_rule": "sub:externalId"},  # an OIDC rule
        {**good, "protocol": "ws-fed"},
        {**good, "metadata_xml": entity + idp.metadata().split("?>", 1)[1]},
        {**good, "metadata_xml": "<not-metadata/>"},
        {
            "protocol": "saml",
            "link_rule": "nameid:userName",
            "entity_id": "x",
            "sso_url": "https://idp",
        },
        {
            **good,
            "metadata_xml": None,
            "entity_id": "x",
            "sso_url": "https://i",
            "certificates": ["AAAA"],
        },
        {**good, "name_id_format": "urn:made-up"},
        {**good, "metadata_xml": None, "metadata_url": idp.base_url + "/nothing-here"},
    ]
    for body in bad:
        refused = await web.put(url, json=body, headers=headers)
        assert refused.status_code == 400, (body, refused.text)
    assert (await web.get(url, headers=headers)).status_code == 404  # nothing was saved
    assert (await web.put(url, json=good, headers=headers)).status_code == 200


async def test_console_page_shows_the_sp_values_and_saves_saml(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    services: Services,
    start_saml_idp: Callable[..., SimulatedSamlIdp],
) -> None:
    idp = start_saml_idp("google")
    await sign_in_admin(web, console_practice)
    page = await web.get("/console/settings/sso")
    assert page.status_code == 200
    assert services.saml.entity_id(console_practice.uuid) in page.text
    assert services.saml.acs_url(console_practice.uuid) in page.text
    assert "not set up yet" in page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "protocol": "saml",
        "saml_rule": "nameid:userName",
        "saml_metadata_url": idp.metadata_url,
        "name_id_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    }
    saved = await web.post("/console/settings/sso", data=form)
    assert saved.status_code == 200, saved.text
    assert "Single sign-on is saved" in saved.text
    assert "In use: <strong>SAML 2.0" in saved.text
    config = await services.sso_configs.get(console_practice.uuid)
    assert config is not None
    assert config.saml is not None
    assert config.saml.entity_id == idp.entity_id
    assert config.saml.idp_initiated is False

    uploaded = await web.post(
        "/console/settings/sso",
        data={**form, "saml_metadata_url": "", "idp_initiated": "on"},
        files={"metadata_file": ("idp.xml", idp.metadata().encode(), "application/xml")},
    )
    assert uploaded.status_code == 200, uploaded.text
    config = await services.sso_configs.get(console_practice.uuid)
    assert config is not None
    assert config.saml is not None
    assert config.saml.idp_initiated is True

    wrong = await web.post(
        "/console/settings/sso", data={**form, "saml_metadata_url": "", "entity_id": "only"}
    )
    assert wrong.status_code == 400
    assert "certificate" in wrong.text
