"""Credential material (server/security.py)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from server.security import (
    constant_time_equals,
    hash_password,
    hash_secret,
    mask_secret,
    new_secret,
    parse_basic_credentials,
    verify_password,
)

_HEX64 = re.compile(r"[0-9a-f]{64}")


def _basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode("ascii")


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("scs_é", hashlib.sha256("scs_é".encode()).hexdigest()),
    ],
)
def test_hash_secret_is_hex_sha256(secret: str, expected: str) -> None:
    digest = hash_secret(secret)

    assert digest == expected
    assert _HEX64.fullmatch(digest)
    assert hash_secret(secret) == digest


def test_hash_secret_differs_per_input() -> None:
    assert len({hash_secret(s) for s in ("a", "b", "A", "a ", "sat_x", "sat_y")}) == 6


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("same", "same", True),
        ("", "", True),
        ("é", "é", True),
        ("same", "Same", False),
        ("same", "same ", False),
        ("same", "", False),
        ("é", "e", False),
    ],
)
def test_constant_time_equals(left: str, right: str, expected: bool) -> None:
    assert constant_time_equals(left, right) is expected


@pytest.mark.parametrize("prefix", ["scs", "sat", "sak", "sst"])
def test_new_secret_has_prefix_and_256_bits(prefix: str) -> None:
    first, second = new_secret(prefix), new_secret(prefix)

    assert first != second
    for secret in (first, second):
        head, _, body = secret.partition("_")
        assert head == prefix
        # token_urlsafe(32): 32 random bytes as 43 unpadded base64url characters.
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body)
        assert len(secret) == len(prefix) + 1 + 43


@pytest.mark.parametrize("hint", ["abcd", "Z9_-", ""])
def test_mask_secret_shows_only_the_hint(hint: str) -> None:
    masked = mask_secret(hint)

    assert masked.endswith(hint)
    assert set(masked.removesuffix(hint)) == {"•"}


def test_mask_secret_does_not_depend_on_the_rest_of_the_secret() -> None:
    short, long = "scs_" + "a" * 8 + "wxyz", new_secret("scs")[:-4] + "wxyz"

    assert mask_secret(short[-4:]) == mask_secret(long[-4:]) == "••••••••wxyz"


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "é:ü pass-phrase", "12345678"]
)
def test_password_round_trip(password: str) -> None:
    hashed = hash_password(password)

    assert hashed.startswith("$argon2id$")
    assert password not in hashed
    assert verify_password(hashed, password) is True
    assert verify_password(hashed, password + "!") is False
    assert verify_password(hashed, "") is False


def test_hash_password_is_salted() -> None:
    assert hash_password("same") != hash_password("same")


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not-a-hash",
        "$argon2id$v=19$m=65536,t=3,p=4$xx$yy",
        hashlib.sha256(b"pw").hexdigest(),
    ],
)
def test_verify_password_garbage_hash_is_false(garbage: str) -> None:
    assert verify_password(garbage, "pw") is False


def test_verify_password_truncated_hash_is_false() -> None:
    assert verify_password(hash_password("pw")[:-6], "pw") is False


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(_basic(b"client:secret"), ("client", "secret"), id="valid"),
        pytest.param(
            "basic " + base64.b64encode(b"client:secret").decode(),
            ("client", "secret"),
            id="scheme-case-insensitive",
        ),
        pytest.param(
            "Basic   " + base64.b64encode(b"client:secret").decode() + "  ",
            ("client", "secret"),
            id="surrounding-whitespace",
        ),
        pytest.param(_basic(b"client:a:b::c"), ("client", "a:b::c"), id="colons-in-password"),
        pytest.param(_basic(b"client:"), ("client", ""), id="empty-password"),
        pytest.param(_basic(b":secret"), ("", "secret"), id="empty-user"),
        pytest.param(_basic("é:ü".encode()), ("é", "ü"), id="utf-8"),
    ],
)
def test_parse_basic_credentials(header: str, expected: tuple[str, str]) -> None:
    assert parse_basic_credentials(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer sat_abc", id="bearer"),
        pytest.param("Digest username=x", id="digest"),
        pytest.param("", id="empty"),
        pytest.param("Basic", id="basic-without-credential"),
        pytest.param("Basic   ", id="basic-blank-credential"),
        pytest.param("Basicdxx", id="no-space"),
        pytest.param(_basic(b""), id="basic-empty-base64"),
    ],
)
def test_parse_basic_credentials_other_schemes_are_none(header: str) -> None:
    assert parse_basic_credentials(header) is None


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Basic not*base64!", id="not-base64"),
        pytest.param("Basic dTp", id="bad-padding"),
        pytest.param(_basic(b"\xff\xfe:\xff"), id="not-utf-8"),
        pytest.param(_basic(b"client-secret"), id="no-colon"),
    ],
)
def test_parse_basic_credentials_malformed_raises(header: str) -> None:
    with pytest.raises(ValueError, match="malformed Basic credentials"):
        parse_basic_credentials(header)
