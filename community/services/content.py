"""Screening text that members publish with WeChat's msgSecCheck."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from community.errors import DomainError
from community.models import User
from community.wechat import WeChatError, as_domain_error, get_client

# msgSecCheck scenes: 1 profile, 2 comment, 3 forum, 4 social log.
SCENE_PROFILE = 1
SCENE_COMMENT = 2
SCENE_FORUM = 3


def content_check(*, text: str, user: User, field: str, scene: int = SCENE_FORUM) -> None:
    """Refuse ``text`` that WeChat judges risky. Does nothing when the check is switched off
    (development without WeChat) or the user has no openid (staff created in the admin)."""
    if not settings.WECHAT_CONTENT_CHECK or not text.strip() or not user.openid:
        return
    try:
        result = get_client().msg_sec_check(content=text, openid=user.openid, scene=scene)
    except WeChatError as exc:
        raise as_domain_error(exc) from exc
    if result.suggest == "risky":
        raise DomainError(
            _("This text cannot be published. Please change it and try again."),
            code="content_risky",
            field=field,
        )
