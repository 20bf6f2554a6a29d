"""Staff socket frames of the console's handoff feature (registered with `frames.staff_frame`)."""

from __future__ import annotations
