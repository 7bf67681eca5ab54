"""Admin of the roles app."""

from roles import admin_boards  # noqa: F401  (task boards)
