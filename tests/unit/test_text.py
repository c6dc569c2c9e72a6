"""What text a column can hold (server/domain/text.py)."""

from __future__ import annotations

import re

import pytest

from server.domain.errors import InvalidValue
from server.domain.text import check_storable, storable, unstorable


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
