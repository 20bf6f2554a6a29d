"""Staff socket frames of the console's reports feature (registered with `frames.staff_frame`)."""

from __future__ import annotations
