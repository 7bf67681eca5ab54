"""The assistant's services: receiving pushes (``inbound``), answering and sending
(``replies``) and the moderators' queue (``queue``)."""

from assistant.services.inbound import message_receive, session_from_parse
from assistant.services.queue import conversation_close, conversation_reply
from assistant.services.replies import assistant_sweep, message_answer, reply_send

__all__ = [
    "assistant_sweep",
    "conversation_close",
    "conversation_reply",
    "message_answer",
    "message_receive",
    "reply_send",
    "session_from_parse",
]
