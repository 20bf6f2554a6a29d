"""Staff socket frames of the console's replies feature (registered with `frames.staff_frame`)."""

from __future__ import annotations
