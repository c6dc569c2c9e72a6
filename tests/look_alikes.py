"""userNames that are one person whatever their Unicode form, and ones that stay two people
(README "One person, one userName"), shared by the unit and the database tests. Each pair is
(first, second) as an identity provider would send them, byte for byte."""

from __future__ import annotations

import pytest

__all__ = ["DISTINCT", "SAME"]

SAME = [
    pytest.param("jos\u00e9", "jose\u0301", id="nfc-nfd"),
    pytest.param("admin", "\uff41\uff44\uff4d\uff49\uff4e", id="fullwidth"),
    pytest.param("\u0130stanbul", "istanbul", id="dotted-capital-i"),
    pytest.param("ISTANBUL", "istanbul", id="capital-i"),
    pytest.param("stra\u00dfe", "STRASSE", id="sharp-s"),
    pytest.param("\u212aelvin", "kelvin", id="kelvin-sign"),
    pytest.param("\ufb01nance", "finance", id="fi-ligature"),
    pytest.param(
        "\u1f48\u0394\u03a5\u03a3\u03a3\u0395\u038e\u03a3",
        "\u1f40\u03b4\u03c5\u03c3\u03c3\u03b5\u03cd\u03c2",
        id="final-sigma",
    ),
    pytest.param("\u00c5sa", "\u212bsa", id="angstrom-sign"),
]

DISTINCT = [
    pytest.param("jose", "jos\u00e9", id="accent"),
    pytest.param("a", "b", id="letters"),
    # Turkish dotless i is its own letter: full case folding keeps it (only İ and I fold to i).
    pytest.param("\u0131stanbul", "istanbul", id="dotless-i"),
    # Confusables across scripts are not case or width variants: Cyrillic U+0430 is not Latin a.
    pytest.param("p\u0430ypal", "paypal", id="cyrillic-a"),
]
