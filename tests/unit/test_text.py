"""What text a column can hold, and the key it is compared in (server/domain/text.py)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.errors import InvalidValue
from server.domain.text import check_storable, storable, text_key, unstorable
from tests.look_alikes import DISTINCT, SAME


@pytest.mark.parametrize(
    ("value", "problem", "kept"),
    [
        ("plain", None, "plain"),
        ("émile 日本 😀", None, "émile 日本 😀"),
        ("", None, ""),
        ("a\x00b", "U+0000 (NUL)", "a\ufffdb"),
        ("\x00", "U+0000 (NUL)", "\ufffd"),
        ("a\ud800b", "an unpaired surrogate", "a?b"),
        ("\udfff", "an unpaired surrogate", "?"),
        ("tab\tand\nnewline", None, "tab\tand\nnewline"),
    ],
)
def test_what_a_column_can_hold(value: str, problem: str | None, kept: str) -> None:
    assert unstorable(value) == problem
    assert storable(value) == kept
    assert unstorable(storable(value)) is None
    if problem is None:
        check_storable("name", value)
    else:
        with pytest.raises(InvalidValue, match=re.escape(f"name may not contain {problem}")):
            check_storable("name", value)


# --- the key case-insensitive text is compared in (README "One person, one userName") ------


@pytest.mark.parametrize(("first", "second"), SAME)
def test_look_alikes_share_one_key(first: str, second: str) -> None:
    assert first.encode() != second.encode()
    assert text_key(first) == text_key(second)


@pytest.mark.parametrize(("first", "second"), DISTINCT)
def test_different_names_keep_different_keys(first: str, second: str) -> None:
    assert text_key(first) != text_key(second)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("Admin", "admin"),
        ("\u0130", "i"),  # İ folds to i + U+0307; the dot goes
        ("I\u0307", "i"),  # the same letter spelt decomposed
        ("\u0130\u0307", "i"),
        ("i\u0307\u0301", "\u00ed"),  # only the dot: the acute stays, composed
        ("J\u030c", "\u01f0"),  # folding leaves j + U+030C; the last NFKC composes it
        ("\u2460", "1"),  # circled digit one: a compatibility form
        ("\ufdfa", unicodedata.normalize("NFKC", "\ufdfa")),  # 1 character, 18 in its key
    ],
)
def test_the_key_rule(value: str, key: str) -> None:
    assert text_key(value) == key


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=12))
def test_the_key_is_stable_and_ignores_the_normalisation_form(value: str) -> None:
    key = text_key(value)
    assert text_key(key) == key
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        assert text_key(unicodedata.normalize(form, value)) == key  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(st.characters(max_codepoint=127), max_size=20))
def test_an_ascii_key_is_the_lower_case_of_the_value(value: str) -> None:
    # NFKC changes no ASCII text and casefold is lower() there; the U+0307 step cannot apply.
    assert text_key(value) == value.lower()
    spelled_out = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    assert text_key(value) == spelled_out
