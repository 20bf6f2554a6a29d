"""replies (issue 5)."""
