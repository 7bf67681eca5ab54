"""Models of the roles app: roles and their holders, task boards."""

from roles.models.boards import *  # noqa: F401,F403
