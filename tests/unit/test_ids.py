"""UUIDs that keep their text (``server.domain.ids``) are UUIDs in every respect."""

from __future__ import annotations

import copy
import pickle
import re
import uuid

import pytest

from server.domain.ids import TextUUID, uuid_from_text, with_text

PLAIN = uuid.UUID("0d7f1c4e-7b53-4a55-9d39-3f1b2b6a8f9e")


@pytest.mark.parametrize(
    "text",
    [
        "0d7f1c4e-7b53-4a55-9d39-3f1b2b6a8f9e",
        "0D7F1C4E-7B53-4A55-9D39-3F1B2B6A8F9E",
        "{0d7f1c4e-7b53-4a55-9d39-3f1b2b6a8f9e}",
        "urn:uuid:0d7f1c4e-7b53-4a55-9d39-3f1b2b6a8f9e",
        "0d7f1c4e7b534a559d393f1b2b6a8f9e",
    ],
)
def test_every_form_uuid_reads_gives_the_same_uuid_with_canonical_text(text: str) -> None:
    made = uuid_from_text(text)
    assert isinstance(made, TextUUID)
    assert made == PLAIN
    assert PLAIN == made  # noqa: SIM300 - the plain UUID's __eq__, not ours
    assert hash(made) == hash(PLAIN)
    assert str(made) == str(PLAIN)
    assert (made.hex, made.version) == (PLAIN.hex, 4)
    assert repr(made) == repr(PLAIN)
    assert {made: 1}[PLAIN] == 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not-a-uuid",
        "0d7f1c4e-7b53-4a55-9d39-3f1b2b6a8f9",  # one digit short
        "0d7f1c4e-7b53-4a55-9d39-3f1b2b6a8f9e0",
        "0d7f1c4e-7b53-4a55-9d39-3f1b2b6a8f9g",
        "0d7f1c4e_7b53_4a55_9d39_3f1b2b6a8f9e",  # int() would read the underscores
    ],
)
def test_what_uuid_refuses_is_refused(text: str) -> None:
    with pytest.raises(ValueError) as refused:  # noqa: PT011 - its message is what we compare
        uuid.UUID(text)
    with pytest.raises(ValueError, match=re.escape(str(refused.value))):
        uuid_from_text(text)


def test_with_text_keeps_value_and_survives_copies_and_pickles() -> None:
    made = with_text(PLAIN)
    assert with_text(made) is made
    for copied in (copy.copy(made), copy.deepcopy(made), pickle.loads(pickle.dumps(made))):  # noqa: S301
        assert copied == PLAIN
        assert str(copied) == str(PLAIN)
    assert sorted([with_text(uuid.UUID(int=2)), uuid.UUID(int=1)]) == [
        uuid.UUID(int=1),
        uuid.UUID(int=2),
    ]
    with pytest.raises(TypeError):
        made.int = 3  # type: ignore[misc]
