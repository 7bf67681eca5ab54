"""The assistant's services: receiving pushes (``inbound``), answering and sending
(``replies``), the moderators' queue (``queue``), the FAQ entries and members' votes
(``faq``) and the keyword rules (``rules``)."""

from assistant.services.faq import (
    faq_entry_create,
    faq_entry_delete,
    faq_entry_get,
    faq_entry_update,
    faq_feedback_set,
    faq_mark_served,
)
from assistant.services.inbound import message_receive, session_from_parse
from assistant.services.queue import conversation_close, conversation_reply
from assistant.services.replies import assistant_sweep, message_answer, reply_send
from assistant.services.rules import (
    keyword_rule_create,
    keyword_rule_delete,
    keyword_rule_get,
    keyword_rule_update,
)

__all__ = [
    "assistant_sweep",
    "conversation_close",
    "conversation_reply",
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
    "message_answer",
    "message_receive",
    "reply_send",
    "session_from_parse",
]
