"""The one place a credential is named: the audit log's actor read back into words."""

from __future__ import annotations

import pytest

from server.domain.acting import ActingCredential


@pytest.mark.parametrize(
    ("credential", "label"),
    [
        (ActingCredential("oauth", "scimlab-0a1b2c3dc169"), "OAuth client …c169"),
        (ActingCredential("static", "Xy9z"), "Static token …Xy9z"),
        (ActingCredential("basic", "scimlab-0a1b2c3dc169"), "Basic, client …c169"),
    ],
)
def test_an_actor_reads_back_as_the_credential_it_names(
    credential: ActingCredential, label: str
) -> None:
    read = ActingCredential.from_actor(credential.actor)
    assert read == credential
    assert read is not None
    assert read.label == label


@pytest.mark.parametrize(
    "actor", ["idp", "idp:", "idp:kerberos:x", "console:ana", "operator:oauth:x", ""]
)
def test_an_actor_that_names_no_credential_reads_as_none(actor: str) -> None:
    assert ActingCredential.from_actor(actor) is None
