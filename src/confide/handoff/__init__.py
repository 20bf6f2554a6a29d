"""handoff (issue 5)."""
