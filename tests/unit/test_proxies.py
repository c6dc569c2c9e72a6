"""``server.ops.proxies``: which hop of ``X-Forwarded-For`` / RFC 7239 ``Forwarded`` is the
client, and that nothing is believed from a peer that is not a trusted proxy."""

from __future__ import annotations

import re

import pytest

from server.ops.proxies import TrustedProxies
from server.settings import Settings, SettingsError

PROXIES = TrustedProxies(["10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.1"])


def _client(peer: str, *headers: tuple[str, str]) -> str:
    return PROXIES.client(peer, [(k.lower().encode(), v.encode("latin-1")) for k, v in headers])


XFF = "X-Forwarded-For"
FWD = "Forwarded"


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        # From a peer that is not trusted, both headers are ignored.
        ("203.0.113.7", [(XFF, "198.51.100.1")], "203.0.113.7"),
        ("203.0.113.7", [(FWD, "for=198.51.100.1")], "203.0.113.7"),
        ("2001:db8::7", [(XFF, "198.51.100.1")], "2001:db8::7"),
        ("testclient", [(XFF, "198.51.100.1")], "testclient"),
        # A trusted peer without either header is the client.
        ("10.1.1.1", [], "10.1.1.1"),
        # X-Forwarded-For: the rightmost hop that is not a trusted proxy.
        ("10.1.1.1", [(XFF, "198.51.100.1")], "198.51.100.1"),
        ("10.1.1.1", [(XFF, "6.6.6.6, 198.51.100.1")], "198.51.100.1"),
        ("10.1.1.1", [(XFF, "6.6.6.6, 198.51.100.1, 10.2.2.2, 192.0.2.1")], "198.51.100.1"),
        ("10.1.1.1", [(XFF, "6.6.6.6"), (XFF, "198.51.100.1, 10.2.2.2")], "198.51.100.1"),
        ("10.1.1.1", [(XFF, "2001:db8::1")], "2001:db8::1"),
        ("10.1.1.1", [(XFF, "[2001:db8::1]:443")], "2001:db8::1"),
        ("10.1.1.1", [(XFF, "198.51.100.1:5000")], "198.51.100.1"),
        ("::ffff:10.1.1.1", [(XFF, "198.51.100.1")], "198.51.100.1"),
        ("2001:db8:ffff::9", [(XFF, "198.51.100.1")], "198.51.100.1"),
        # Every hop a trusted proxy: the leftmost one.
        ("10.1.1.1", [(XFF, "10.3.3.3, 10.2.2.2")], "10.3.3.3"),
        # Invalid values: the peer, never an error.
        ("10.1.1.1", [(XFF, "")], "10.1.1.1"),
        ("10.1.1.1", [(XFF, "not-an-address")], "10.1.1.1"),
        ("10.1.1.1", [(XFF, "198.51.100.1, , 10.2.2.2")], "10.1.1.1"),
        ("10.1.1.1", [(XFF, "198.51.100.1, garbage")], "10.1.1.1"),
        ("10.1.1.1", [(XFF, "999.1.1.1")], "10.1.1.1"),
        ("10.1.1.1", [(XFF, "[2001:db8::1")], "10.1.1.1"),
        ("10.1.1.1", [(XFF, "[2001:db8::1]x")], "10.1.1.1"),
        ("10.1.1.1", [(XFF, "198.51.100.1:http")], "10.1.1.1"),
        ("10.1.1.1", [(FWD, 'for="[2001:db8::1]:port"')], "10.1.1.1"),
        ("10.1.1.1", [(XFF, "\u00e9\u00ff")], "10.1.1.1"),
        # Garbage left of the first untrusted hop is never reached.
        ("10.1.1.1", [(XFF, "garbage, 198.51.100.1")], "198.51.100.1"),
        # RFC 7239 Forwarded: for=, ports, quoted IPv6, several elements and headers.
        ("10.1.1.1", [(FWD, "for=198.51.100.1")], "198.51.100.1"),
        ("10.1.1.1", [(FWD, 'for="198.51.100.1:4711"')], "198.51.100.1"),
        ("10.1.1.1", [(FWD, 'for="[2001:db8:cafe::17]"')], "2001:db8:cafe::17"),
        ("10.1.1.1", [(FWD, 'For="[2001:db8:cafe::17]:4711"')], "2001:db8:cafe::17"),
        ("10.1.1.1", [(FWD, "for=198.51.100.1;proto=https;by=10.1.1.1")], "198.51.100.1"),
        ("10.1.1.1", [(FWD, "proto=https; for=198.51.100.1")], "198.51.100.1"),
        ("10.1.1.1", [(FWD, "for=6.6.6.6, for=198.51.100.1")], "198.51.100.1"),
        ("10.1.1.1", [(FWD, "for=198.51.100.1, for=10.2.2.2")], "198.51.100.1"),
        ("10.1.1.1", [(FWD, "for=6.6.6.6"), (FWD, "for=198.51.100.1")], "198.51.100.1"),
        ("10.1.1.1", [(FWD, 'for="6.6.6.6,x";by=a, for=198.51.100.1')], "198.51.100.1"),
        ("10.1.1.1", [(FWD, r'for="\[2001:db8::2\]"')], "2001:db8::2"),
        # Forwarded values that name no address: the peer.
        ("10.1.1.1", [(FWD, "for=unknown")], "10.1.1.1"),
        ("10.1.1.1", [(FWD, "for=_hidden")], "10.1.1.1"),
        ("10.1.1.1", [(FWD, "proto=https")], "10.1.1.1"),
        ("10.1.1.1", [(FWD, "for=")], "10.1.1.1"),
        ("10.1.1.1", [(FWD, 'for="198.51.100.1')], "10.1.1.1"),
        ("10.1.1.1", [(FWD, "for=[2001:db8::1]")], "2001:db8::1"),
        ("10.1.1.1", [(FWD, "=;;,=")], "10.1.1.1"),
        ("10.1.1.1", [(FWD, "for=198.51.100.1 junk")], "10.1.1.1"),
        ("10.1.1.1", [(FWD, "for=198.51.100.1, for=unknown")], "10.1.1.1"),
        # Both headers: believed when they agree; when not, one was made up, so neither.
        ("10.1.1.1", [(XFF, "198.51.100.1"), (FWD, "for=198.51.100.1")], "198.51.100.1"),
        ("10.1.1.1", [(XFF, "198.51.100.1"), (FWD, "for=6.6.6.6")], "10.1.1.1"),
    ],
)
def test_which_hop_is_the_client(peer: str, headers: list[tuple[str, str]], client: str) -> None:
    assert _client(peer, *headers) == client


def test_only_the_last_64_hops_are_read() -> None:
    """A client cannot make the server parse an unbounded chain; past 64 trusted hops the
    leftmost one read stands."""
    chain = ", ".join(["10.9.9.9"] * 10_000)
    assert _client("10.1.1.1", (XFF, f"198.51.100.1, {chain}")) == "10.9.9.9"


def test_settings_read_trusted_proxies_and_refuse_bad_ones() -> None:
    settings = Settings.from_env({"SCIMLAB_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.1 ,"})
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.0.2.1")
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(SettingsError, match=re.escape("SCIMLAB_TRUSTED_PROXIES: 'proxy.local'")):
        Settings.from_env({"SCIMLAB_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"})
