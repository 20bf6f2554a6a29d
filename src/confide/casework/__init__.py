"""casework (issue 5)."""
