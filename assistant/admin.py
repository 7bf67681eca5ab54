"""The assistant in the admin. FAQ entries, keyword rules and the statistics page live in
``assistant.admin_faq``; importing it here registers them."""

from assistant import admin_faq  # noqa: F401 (registers FaqEntry and KeywordRule)
