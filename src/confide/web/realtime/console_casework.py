"""Staff socket frames of the console's casework feature (registered with `frames.staff_frame`)."""

from __future__ import annotations
