"""Services of the announcements app: every write and every permission check."""

from announcements.services.announcements import (
    announcement_create,
    announcement_delete,
    announcement_update,
    announcements_publish_due,
)
from announcements.services.categories import (
    categories_create_defaults,
    category_create,
    category_delete,
    category_follow,
    category_update,
)
from announcements.services.reads import (
    announcement_confirm,
    announcement_mark_read,
    announcement_remind,
)

__all__ = [
    "announcement_confirm",
    "announcement_create",
    "announcement_delete",
    "announcement_mark_read",
    "announcement_remind",
    "announcement_update",
    "announcements_publish_due",
    "categories_create_defaults",
    "category_create",
    "category_delete",
    "category_follow",
    "category_update",
]
