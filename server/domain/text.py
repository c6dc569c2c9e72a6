"""Text a database column can hold, and the one form case-insensitive text is compared in.

PostgreSQL's ``text`` refuses NUL, and neither driver can encode a lone surrogate (which a
JSON ``\\ud800`` escape decodes to) as UTF-8; SQLite stored NUL as given. Refusing both
before a write or a lookup keeps the answer the same on either database: a 400 naming the
attribute, not a driver error.
"""

from __future__ import annotations

import re
import unicodedata

from server.domain.errors import InvalidValue

__all__ = ["check_storable", "storable", "text_key", "unstorable"]

# U+0307 COMBINING DOT ABOVE right after an "i": what case folding makes of U+0130 (İ).
_DOT_ON_I = re.compile("(?<=i)\u0307+")


def text_key(value: str) -> str:
    """The form case-insensitive text (userName, emails, names, group displayName, SSO link
    subjects) is compared and kept unique in: NFKC, full case folding, U+0307 dropped after
    an ``i``, NFKC again. Modelled on RFC 8265 §3.3 (UsernameCaseMapped: width mapping, case
    mapping, NFC), widened so every compatibility look-alike (fullwidth, ligatures, Kelvin
    sign) and every case variant (``ß``/``SS``, final sigma, ``İ``/``I``) of a name is one
    key; the second NFKC makes the key canonical again (``J``+U+030C folds to ``ǰ``), so
    ``text_key(text_key(x)) == text_key(x)``. The key is never shown: the stored value stays
    exactly what was sent."""
    if value.isascii():
        return value.lower()  # what the steps below give for ASCII text, without their cost
    folded = _DOT_ON_I.sub("", unicodedata.normalize("NFKC", value).casefold())
    return unicodedata.normalize("NFKC", folded)


def unstorable(value: str) -> str | None:
    """What keeps ``value`` out of a text column, or None if nothing does."""
    if "\x00" in value:
        return "U+0000 (NUL)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "an unpaired surrogate"
    return None


def check_storable(label: str, value: str | None, *, field: str | None = None) -> None:
    """Raise ``InvalidValue`` naming ``label`` (about ``field``) if ``value`` cannot be
    stored as text."""
    if value is None:
        return
    problem = unstorable(value)
    if problem is not None:
        raise InvalidValue(f"{label} may not contain {problem}", field=field)


def storable(value: str) -> str:
    """``value`` with U+0000 and unpaired surrogates replaced (U+FFFD, ``?``): for text kept
    only for people to read, such as the name an audit entry gives a failed sign-in."""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
