"""WeChat server API: the client (``get_client()``), its errors and share-data decryption."""

from community.wechat.client import (
    Code2Session,
    SecCheck,
    SecScene,
    WeChatClient,
    get_client,
)
from community.wechat.crypto import DecryptError, decrypt_data, encrypt_data
from community.wechat.errors import (
    ERRCODE_CODE_USED,
    ERRCODE_HIGH_RISK_USER,
    ERRCODE_INVALID_CODE,
    ERRCODE_MINUTE_QUOTA,
    ERRCODE_NOT_SUBSCRIBED,
    ERRCODE_SYSTEM_BUSY,
    TOKEN_ERRCODES,
    WeChatError,
    WeChatUnavailable,
    as_domain_error,
)

__all__ = [
    "ERRCODE_CODE_USED",
    "ERRCODE_HIGH_RISK_USER",
    "ERRCODE_INVALID_CODE",
    "ERRCODE_MINUTE_QUOTA",
    "ERRCODE_NOT_SUBSCRIBED",
    "ERRCODE_SYSTEM_BUSY",
    "TOKEN_ERRCODES",
    "Code2Session",
    "DecryptError",
    "SecCheck",
    "SecScene",
    "WeChatClient",
    "WeChatError",
    "WeChatUnavailable",
    "as_domain_error",
    "decrypt_data",
    "encrypt_data",
    "get_client",
]
