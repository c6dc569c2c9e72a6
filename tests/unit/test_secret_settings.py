"""``SCIMLAB_ENV``, ``SCIMLAB_SECRET_KEY`` and ``SecretBox``: production refuses to start
without a key, keys are checked when read, and secrets sealed with one key open with a list
that still holds it (rotation)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from server.app import create_app
from server.security import SealedSecretError, SecretBox
from server.settings import Settings, SettingsError

NEW, OLD = Fernet.generate_key().decode(), Fernet.generate_key().decode()
SCIMLAB = Path(sys.executable).parent / "scimlab"


@pytest.mark.parametrize(
    ("environ", "environment"),
    [
        ({}, "development"),
        ({"SCIMLAB_PUBLIC_URL": "http://localhost:8000"}, "development"),
        ({"SCIMLAB_PUBLIC_URL": "http://[::1]:8000"}, "development"),
        ({"SCIMLAB_PUBLIC_URL": "https://scim.example.org"}, "production"),
        ({"SCIMLAB_PUBLIC_URL": "http://10.1.2.3:8000"}, "production"),
        (
            {"SCIMLAB_PUBLIC_URL": "https://scim.example.org", "SCIMLAB_ENV": "development"},
            "development",
        ),
        ({"SCIMLAB_ENV": " Production "}, "production"),
    ],
)
def test_environment_follows_scimlab_env_else_the_public_url(
    environ: dict[str, str], environment: str
) -> None:
    assert Settings.from_env(environ).environment == environment


def test_production_without_a_key_refuses_to_start() -> None:
    settings = Settings.from_env({"SCIMLAB_PUBLIC_URL": "https://scim.example.org"})
    with pytest.raises(SettingsError, match="SCIMLAB_SECRET_KEY is required in production"):
        create_app(settings)
    keyed = Settings.from_env(
        {"SCIMLAB_PUBLIC_URL": "https://scim.example.org", "SCIMLAB_SECRET_KEY": NEW}
    )
    keyed.refuse_unsafe()
    Settings.from_env({}).refuse_unsafe()  # development: no key needed


def test_scimlab_serve_refuses_production_without_a_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMLAB_")}
    env |= {
        "SCIMLAB_ENV": "production",
        "SCIMLAB_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    done = subprocess.run(
        [str(SCIMLAB), "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "Error: SCIMLAB_SECRET_KEY is required in production" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SCIMLAB_ENV": "staging"}, "SCIMLAB_ENV must be development or production"),
        ({"SCIMLAB_SECRET_KEY": "not-a-key"}, "SCIMLAB_SECRET_KEY: key 1 is not a Fernet key"),
        ({"SCIMLAB_SECRET_KEY": f"{NEW}, short"}, "SCIMLAB_SECRET_KEY: key 2 is not a Fernet key"),
    ],
)
def test_unusable_settings_are_refused_with_their_name(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ)


def test_keys_are_listed_newest_first_and_never_shown() -> None:
    settings = Settings.from_env({"SCIMLAB_SECRET_KEY": f" {NEW} ,{OLD},"})
    assert settings.secret_keys == (NEW, OLD)
    assert NEW not in repr(settings)
    assert OLD not in repr(settings)


def test_secret_box_seals_opens_and_rotates() -> None:
    old = SecretBox([OLD])
    sealed = old.seal("JBSWY3DPEHPK3PXP")
    assert sealed.startswith("fernet:")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert old.seal("JBSWY3DPEHPK3PXP") != sealed  # a fresh IV each time
    with pytest.raises(SealedSecretError, match="no longer lists"):
        SecretBox([NEW]).open(sealed)
    with pytest.raises(SealedSecretError, match="not set"):
        SecretBox().open(sealed)
    both = SecretBox([NEW, OLD])
    assert both.open(sealed) == "JBSWY3DPEHPK3PXP"
    rotated = both.reseal(sealed)
    assert SecretBox([NEW]).open(rotated) == "JBSWY3DPEHPK3PXP"
    # Plaintext from before encryption is read as it is, and encrypted by a reseal.
    assert both.open("JBSWY3DPEHPK3PXP") == "JBSWY3DPEHPK3PXP"
    assert SecretBox([NEW]).open(both.reseal("JBSWY3DPEHPK3PXP")) == "JBSWY3DPEHPK3PXP"
    # Without keys (development) nothing is encrypted.
    assert SecretBox().seal("JBSWY3DPEHPK3PXP") == "JBSWY3DPEHPK3PXP"
