"""Tables of the casework domain."""

from __future__ import annotations
