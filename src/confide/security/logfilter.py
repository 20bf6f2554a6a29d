"""Logging that cannot leak a visitor's address.

Uvicorn and libraries log client addresses in some messages (a WebSocket "accepted" line,
for instance) even with the access log off. Every log line goes through this filter, which
replaces anything shaped like an IPv4 or IPv6 address by a placeholder.
"""

from __future__ import annotations

import ipaddress
import logging
import re

# Candidates: runs of hex digits, dots and colons, possibly bracketed and with a port; each
# is checked with `ipaddress`, so times ("17:39:08") and versions ("1.2.3") are left alone.
CANDIDATE = re.compile(r"(?<![\w.:\-])\[?[0-9A-Fa-f:.]{2,}\]?(?::\d{1,5})?(?![\w\-])")
PLACEHOLDER = "[address]"


def _is_address(token: str) -> bool:
    host = token
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    for candidate in (host, host.rsplit(":", 1)[0]):
        try:
            ipaddress.ip_address(candidate.strip("."))
        except ValueError:
            continue
        return True
    return False


def redact(text: str) -> str:
    return CANDIDATE.sub(lambda m: PLACEHOLDER if _is_address(m.group(0)) else m.group(0), text)


class RedactAddresses(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            # Exceptions may carry addresses too: format now and redact.
            formatted = logging.Formatter().formatException(record.exc_info)
            record.msg = f"{record.msg}\n{redact(formatted)}"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


def configure(level: int = logging.INFO) -> None:
    """Root logging to stderr, every record redacted; uvicorn's loggers go through it too."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactAddresses())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
