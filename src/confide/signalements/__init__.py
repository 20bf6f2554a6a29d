"""signalements (issue 5)."""
