"""Settings → Single Sign-On: the practice's identity provider, OpenID Connect or SAML 2.0,
and which claim or assertion value identifies a person (the link SCIM records when it
creates an account). The SAML service-provider values are shown whatever is chosen, so the
app can be registered at the IdP first."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide

from server.console.auth import Viewer, provide_admin, provide_viewer
from server.console.forms import FORM_NEEDS_CHANGE, field_errors
from server.console.render import page
from server.domain.errors import DomainError
from server.domain.saml import NAME_ID_FORMATS
from server.domain.sso import LinkRule, SsoConfig, SsoProtocol
from server.services import Services
from server.sso.saml_metadata import split_certificates
from server.sso.saml_setup import MAX_METADATA_BYTES, SamlInput, configure_saml

__all__ = ["SsoSettingsController"]

_OIDC_FIELDS = ("issuer", "metadata_url", "client_id", "link_rule")
_SAML_FIELDS = ("saml_rule", "saml_metadata_url", "entity_id", "sso_url", "name_id_format")
#: The SAML form's names for the fields the domain's errors name.
_SAML_FORM_NAMES = {
    "metadata_url": "saml_metadata_url",
    "metadata_xml": "metadata_file",
    "link_rule": "saml_rule",
}


def _values(config: SsoConfig | None) -> dict[str, str]:
    oidc = config if config and config.protocol is SsoProtocol.OIDC else None
    idp = config.saml if config else None
    return {
        "protocol": config.protocol.value if config else SsoProtocol.OIDC.value,
        "issuer": oidc.issuer if oidc else "",
        "metadata_url": (oidc.metadata_url or "") if oidc else "",
        "client_id": oidc.client_id if oidc else "",
        "link_rule": oidc.link_rule.value if oidc else LinkRule.ENTRA_OID.value,
        "saml_rule": config.link_rule.value if idp and config else LinkRule.SAML_NAMEID.value,
        "saml_metadata_url": (idp.metadata_url or "") if idp else "",
        "entity_id": idp.entity_id if idp else "",
        "sso_url": idp.sso_url if idp else "",
        "name_id_format": idp.name_id_format if idp else "",
        "certificates": "\n".join(idp.certificates) if idp else "",
        "idp_initiated": "on" if idp and idp.idp_initiated else "",
    }


class SsoSettingsController(Controller):
    path = "/console/settings/sso"
    include_in_schema = False
    dependencies = {  # noqa: RUF012
        "viewer": Provide(provide_viewer),
        "admin": Provide(provide_admin),
    }

    async def _page(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        admin: Viewer,
        *,
        form: dict[str, str] | None = None,
        error: str | None = None,
        errors: dict[str, str] | None = None,
        notice: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        practice_id = admin.practice.id
        config = await services.sso_configs.get(practice_id)
        values = {**_values(config), **(form or {})}
        base = services.settings.public_url
        return page(
            request,
            services.settings,
            "settings_sso.html",
            status_code=status_code,
            viewer=admin,
            config=config,
            values=values,
            rules=[r for r in LinkRule if r.protocol is SsoProtocol.OIDC],
            saml_rules=[r for r in LinkRule if r.protocol is SsoProtocol.SAML],
            name_id_formats=NAME_ID_FORMATS,
            redirect_uri=services.sso.redirect_uri(practice_id),
            sp_entity_id=services.saml.entity_id(practice_id),
            acs_url=services.saml.acs_url(practice_id),
            sign_in_url=f"{base}/console/{practice_id}/sign-in",
            error=FORM_NEEDS_CHANGE if errors else error,
            errors=errors or {},
            notice=notice,
        )

    @get("/")
    async def show(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        return await self._page(request, services, admin)

    @post("/")
    async def save(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        raw = await request.form()
        saml = str(raw.get("protocol", "")) == SsoProtocol.SAML.value
        names = (*_SAML_FIELDS, "certificates", "idp_initiated") if saml else _OIDC_FIELDS
        form = {key: str(raw.get(key, "")).strip() for key in names}
        form["protocol"] = SsoProtocol.SAML.value if saml else SsoProtocol.OIDC.value
        try:
            if saml:
                upload = raw.get("metadata_file")
                document = str(raw.get("metadata_xml", "")).strip()
                if isinstance(upload, UploadFile):
                    content = await upload.read(MAX_METADATA_BYTES + 1)
                    document = content.decode("utf-8", "replace").strip() or document
                given = SamlInput(
                    link_rule=form["saml_rule"],
                    entity_id=form["entity_id"],
                    sso_url=form["sso_url"],
                    certificates=split_certificates(form["certificates"]),
                    metadata_url=form["saml_metadata_url"] or None,
                    metadata_xml=document or None,
                    name_id_format=form["name_id_format"],
                    idp_initiated=form["idp_initiated"] == "on",
                )
                _, relinked = await configure_saml(
                    services.sso_configs, admin.practice.id, given, actor=admin.actor
                )
            else:
                _, relinked = await services.sso_configs.configure(
                    admin.practice.id,
                    issuer=form["issuer"],
                    client_id=form["client_id"],
                    client_secret=str(raw.get("client_secret", "")) or None,
                    link_rule=form["link_rule"],
                    metadata_url=form["metadata_url"] or None,
                    actor=admin.actor,
                )
        except DomainError as error:
            errors = field_errors(error, fields=_SAML_FORM_NAMES if saml else None)
            return await self._page(
                request,
                services,
                admin,
                form=form,
                error=error.detail,
                errors=errors,
                status_code=400,
            )
        notice = f"Single sign-on is saved. {relinked} provisioned account(s) were linked anew."
        return await self._page(request, services, admin, notice=notice)
