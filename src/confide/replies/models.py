"""Tables of the replies domain."""

from __future__ import annotations
