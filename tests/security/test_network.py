"""`client_address`: X-Forwarded-For is believed only from a configured trusted proxy."""

from __future__ import annotations

import pytest

from confide.security.network import client_address

PEER = ("10.0.0.5", 40000)


def test_direct_connections_use_the_peer_and_ignore_the_header() -> None:
    assert client_address(("203.0.113.9", 5555), [], []) == ("203.0.113.9", 5555)
    # Without a trusted proxy the header is anybody's invention.
    assert client_address(("203.0.113.9", 5555), ["198.51.100.1"], []) == ("203.0.113.9", 5555)
    assert client_address(("203.0.113.9", 5555), ["198.51.100.1"], ["10.0.0.0/8"]) == (
        "203.0.113.9",
        5555,
    )
    assert client_address(None, [], []) == ("", None)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["198.51.100.1"], "198.51.100.1"),
        # A client may send its own X-Forwarded-For: the proxy appends, so read from the right.
        (["1.2.3.4, 198.51.100.1"], "198.51.100.1"),
        (["1.2.3.4", "198.51.100.1"], "198.51.100.1"),
        # Chained trusted proxies are skipped.
        (["198.51.100.1, 10.0.0.7"], "198.51.100.1"),
        (["2001:db8::1"], "2001:db8::1"),
        # Garbage: fall back to the proxy itself, never to a forged value.
        (["198.51.100.1, not-an-ip"], "10.0.0.5"),
        (["10.0.0.8, 10.0.0.7"], "10.0.0.8"),
    ],
)
def test_trusted_proxies_forward_the_rightmost_untrusted_address(
    header: list[str], expected: str
) -> None:
    ip, port = client_address(PEER, header, ["10.0.0.0/8", "127.0.0.1"])
    assert ip == expected
    assert port is None  # the visitor's source port is not known behind a proxy


def test_a_trusted_peer_without_the_header_is_a_direct_connection() -> None:
    assert client_address(PEER, [], ["10.0.0.0/8"]) == PEER
