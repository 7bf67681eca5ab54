"""Roles and task boards. One module per concern; import the models from here."""

from roles.capabilities import Capability
from roles.models.boards import *  # noqa: E402,F401,F403  (task boards)
from roles.models.roles import (
    AssignmentQuerySet,
    EndReason,
    Role,
    RoleAssignment,
    RoleVolunteer,
    VolunteerStatus,
)

__all__ = [
    "AssignmentQuerySet",
    "Capability",
    "EndReason",
    "Role",
    "RoleAssignment",
    "RoleVolunteer",
    "VolunteerStatus",
]
