"""Short in-console help: connecting Microsoft Entra ID, Okta or Google Workspace to this
practice, and what an administrator does after the first accounts arrive."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from server.console.auth import Viewer, provide_viewer
from server.console.render import page
from server.services import Services

__all__ = ["HELP_TOPICS", "HelpController"]

#: topic -> (title, paragraphs or steps); the template lays them out.
HELP_TOPICS: dict[str, tuple[str, list[str]]] = {
    "entra": (
        "Connect Microsoft Entra ID",
        [
            "In the Microsoft Entra admin center, open Enterprise applications, create your own "
            "application (not from the gallery) and open its Provisioning page.",
            "Set the provisioning mode to Automatic. As the Tenant URL, paste the SCIM Endpoint "
            "URL from Settings → SCIM Provisioning.",
            "As the Secret Token, paste a static token: create one under Static bearer tokens on "
            "the SCIM Provisioning page and copy it before you click Done.",
            "Click Test Connection, then save. Keep userName as the matching attribute; Entra "
            "sends the user principal name there.",
            "Assign the people who should have accounts to the application, then start "
            "provisioning. Entra sends changes about every 40 minutes.",
        ],
    ),
    "okta": (
        "Connect Okta",
        [
            "In the Okta Admin Console, open your application's General tab and turn on SCIM "
            "provisioning; then open the Provisioning tab.",
            "As the SCIM connector base URL, paste the SCIM Endpoint URL. As the unique "
            "identifier field for users, enter userName.",
            "Choose Push New Users, Push Profile Updates and Push Groups as you need them.",
            "For the authentication mode, choose HTTP Header and paste a static token from the "
            "SCIM Provisioning page, or Basic Auth with the Client ID as the username and the "
            "Client Secret as the password.",
            "Test the connector, save, and assign people to the application. Okta deactivates "
            "accounts; it never deletes them.",
        ],
    ),
    "google": (
        "Connect Google Workspace",
        [
            "Google provisions only catalog apps with SAML single sign-on through Google: set "
            "up single sign-on first (Settings → Single Sign-On).",
            "In the Google Admin console, open Apps → Web and mobile apps, choose the app and "
            "open Auto-provisioning.",
            "Paste a static token from the SCIM Provisioning page as the access token, and the "
            "SCIM Endpoint URL as the endpoint URL.",
            "Map the primary email to userName, choose who is provisioned, and turn "
            "auto-provisioning on. Google syncs every few hours.",
        ],
    ),
    "after-provisioning": (
        "After accounts are provisioned",
        [
            "New accounts have the Admin Staff access level, with no chart access. Give each "
            "person their locations and access level under Location & Staff Management.",
            "First name, last name, username and cell phone come from your identity provider "
            "and can only be changed there.",
            "To make someone a provider, open Providers → Add Provider and choose their "
            "existing account.",
            "With single sign-on, provisioned staff sign in through their organisation. They "
            "have no password here, and forgot-password will not give them one.",
        ],
    ),
}


class HelpController(Controller):
    path = "/console/help"
    include_in_schema = False
    dependencies = {"viewer": Provide(provide_viewer)}  # noqa: RUF012

    @get("/{topic:str}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        topic: FromPath[str],
        viewer: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        if topic not in HELP_TOPICS:
            raise NotFoundException("There is no such help page.")
        title, steps = HELP_TOPICS[topic]
        return page(
            request,
            services.settings,
            "help.html",
            viewer=viewer,
            title=title,
            steps=steps,
            topic=topic,
            topics={key: value[0] for key, value in HELP_TOPICS.items()},
        )
