"""Command-line options shared by the simulators' commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["auth_options"]


def auth_options(command: Callable[..., None]) -> Callable[..., None]:
    """The sign-in options every simulator (and replay) takes."""
    options = [
        click.option("--token-url", help="OAuth token endpoint (client credentials)."),
        click.option("--client-id", help="OAuth client id."),
        click.option("--client-secret", help="OAuth client secret."),
        click.option(
            "--client-auth",
            type=click.Choice(["post", "basic"]),
            default="post",
            show_default=True,
            help="How the client secret goes to the token endpoint.",
        ),
        click.option("--token", help="A static bearer token."),
        click.option("--basic", help="HTTP Basic credentials, ID:SECRET."),
    ]
    for option in reversed(options):
        command = option(command)
    return command
