"""Tables of the signalements domain."""

from __future__ import annotations
