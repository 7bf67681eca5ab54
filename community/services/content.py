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


# --- screening with a queue: "review" and an unreachable WeChat hold the text back -------------

PASS = "pass"  # noqa: S105 (a verdict, not a password)
REVIEW = "review"
UNCHECKED = "unchecked"


def content_screen(*, texts: dict[str, str], user: User, scene: int = SCENE_FORUM) -> str:
    """Screen every field of one publication (``{field: text}``) before the transaction that
    stores it. Raises 400 ``content_risky`` (naming the field) when WeChat says "risky";
    otherwise returns the worst verdict: ``pass``, ``review`` (WeChat wants a human look) or
    ``unchecked`` (WeChat could not be reached). The caller stores the object and, for
    anything but ``pass``, calls :func:`content_hold_for_review` in the same transaction: the
    text waits hidden in the moderation queue instead of being lost or shown unchecked."""
    if not settings.WECHAT_CONTENT_CHECK or not user.openid:
        return PASS
    verdict = PASS
    for field, text in texts.items():
        if not text or not text.strip():
            continue
        try:
            result = get_client().msg_sec_check(content=text, openid=user.openid, scene=scene)
        except WeChatError:
            verdict = UNCHECKED
            break  # one unreachable check holds the whole publication; no need to go on
        if result.suggest == "risky":
            raise DomainError(
                _("This text cannot be published. Please change it and try again."),
                code="content_risky",
                field=field,
            )
        if result.suggest == "review":
            verdict = REVIEW
    return verdict


def content_hold_for_review(
    *, verdict: str, community_id: str, target_kind: str, target_id: str, author_id: str
) -> bool:
    """Hide a just-stored publication whose verdict is not ``pass`` and open (or join) its
    case in the moderation queue. Call inside the storing transaction. True when held."""
    if verdict == PASS:
        return False
    from moderation.services.screening import screening_hold  # moderation builds on the core

    screening_hold(
        community_id=community_id,
        target_kind=target_kind,
        target_id=target_id,
        author_id=author_id,
        unchecked=verdict == UNCHECKED,
    )
    return True
