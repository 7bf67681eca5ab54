"""Community roles and task boards (their issue will fill this in)."""
