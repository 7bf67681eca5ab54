"""Services of the assistant app: every write and every permission check.

``faq`` and ``rules`` hold the FAQ entries, the members' "was this helpful?" votes and the
keyword rules (the admin tiers and holders of the publish-content capability write them)."""

from assistant.services.faq import (
    faq_entry_create,
    faq_entry_delete,
    faq_entry_get,
    faq_entry_update,
    faq_feedback_set,
    faq_mark_served,
)
from assistant.services.rules import (
    keyword_rule_create,
    keyword_rule_delete,
    keyword_rule_get,
    keyword_rule_update,
)

__all__ = [
    "faq_entry_create",
    "faq_entry_delete",
    "faq_entry_get",
    "faq_entry_update",
    "faq_feedback_set",
    "faq_mark_served",
    "keyword_rule_create",
    "keyword_rule_delete",
    "keyword_rule_get",
    "keyword_rule_update",
]
