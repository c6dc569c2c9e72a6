"""How long ``scimlab serve`` drains on SIGTERM, and how long requests in flight get."""

from __future__ import annotations

import pytest

from server.settings import Settings, SettingsError


def test_a_production_host_drains_by_default_and_a_development_server_does_not() -> None:
    production = Settings.from_env({"SCIMLAB_PUBLIC_URL": "https://scim.example.org"})
    development = Settings.from_env({})
    assert (production.environment, production.shutdown_drain_seconds) == ("production", 5.0)
    assert (development.environment, development.shutdown_drain_seconds) == ("development", 0.0)
    assert production.shutdown_grace_seconds == development.shutdown_grace_seconds == 30.0


def test_the_variables_set_both() -> None:
    settings = Settings.from_env(
        {"SCIMLAB_SHUTDOWN_DRAIN_SECONDS": "2.5", "SCIMLAB_SHUTDOWN_GRACE_SECONDS": "12"}
    )
    assert (settings.shutdown_drain_seconds, settings.shutdown_grace_seconds) == (2.5, 12.0)


@pytest.mark.parametrize(
    "variable", ["SCIMLAB_SHUTDOWN_DRAIN_SECONDS", "SCIMLAB_SHUTDOWN_GRACE_SECONDS"]
)
def test_a_negative_time_is_refused(variable: str) -> None:
    with pytest.raises(SettingsError, match="SHUTDOWN"):
        Settings.from_env({variable: "-1"})
