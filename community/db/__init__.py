"""Database plumbing of the project: the PostgreSQL backend and index housekeeping."""
