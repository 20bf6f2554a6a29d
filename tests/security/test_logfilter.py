from __future__ import annotations

import logging

import pytest

from confide.security.logfilter import RedactAddresses, redact


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '127.0.0.1:54904 - "WebSocket /ws/visitor" [accepted]',
            '[address] - "WebSocket /ws/visitor" [accepted]',
        ),
        ("client [::1]:4432 left", "client [address] left"),
        ("from 2001:db8::7 via 192.168.12.4", "from [address] via [address]"),
        ("mapped ::ffff:10.1.2.3 here", "mapped [address] here"),
    ],
)
def test_addresses_are_redacted(line: str, expected: str) -> None:
    assert redact(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "at 17:39:08,221",
        "version 1.2.3",
        "id 6f1c1f47-3f0e-4d1b-8a3e-0a3c0b7c2d10",
        "deadbeef cafe",
        "seq 12",
    ],
)
def test_other_text_is_left_alone(line: str) -> None:
    assert redact(line) == line


def test_filter_redacts_arguments_and_exceptions() -> None:
    try:
        raise ValueError("peer 10.20.30.40 reset")
    except ValueError as error:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "from %s", ("172.16.0.9",), (ValueError, error, None)
        )
    assert RedactAddresses().filter(record)
    text = record.getMessage()
    assert "172.16.0.9" not in text
    assert "10.20.30.40" not in text
    assert "[address]" in text
