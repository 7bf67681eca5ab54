"""Services of the roles app, split by use case: ``roles`` (defining roles) and
``assignments`` (holding them: assignment, terms, volunteering). Import from here."""

from roles.services.assignments import (
    NOTIFY_TERM_ENDING,
    REMIND_BEFORE,
    assignment_create,
    assignment_end,
    assignment_renew,
    assignments_end_for_member,
    assignments_expire_due,
    assignments_remind_due,
    volunteer_approve,
    volunteer_create,
    volunteer_refuse,
    volunteer_withdraw,
)
from roles.services.roles import (
    SUGGESTED_ROLES,
    capabilities_clean,
    role_create,
    role_delete,
    role_get,
    role_update,
    roles_create_suggested,
)

__all__ = [
    "NOTIFY_TERM_ENDING",
    "REMIND_BEFORE",
    "SUGGESTED_ROLES",
    "assignment_create",
    "assignment_end",
    "assignment_renew",
    "assignments_end_for_member",
    "assignments_expire_due",
    "assignments_remind_due",
    "capabilities_clean",
    "role_create",
    "role_delete",
    "role_get",
    "role_update",
    "roles_create_suggested",
    "volunteer_approve",
    "volunteer_create",
    "volunteer_refuse",
    "volunteer_withdraw",
]
