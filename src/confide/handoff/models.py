"""Tables of the handoff domain."""

from __future__ import annotations
