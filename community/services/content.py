"""Screening text that members publish with WeChat's msgSecCheck."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from community.errors import DomainError
from community.models import User
from community.wechat import WeChatError, get_client

# msgSecCheck scenes: 1 profile, 2 comment, 3 forum, 4 social log.
SCENE_PROFILE = 1
SCENE_COMMENT = 2
SCENE_FORUM = 3


# --- screening with a queue: "review" and an unreachable WeChat hold the text back -------------

PASS = "pass"  # noqa: S105 (a verdict, not a password)
REVIEW = "review"
UNCHECKED = "unchecked"


RISKY = "risky"


def content_verdict(
    *, texts: dict[str, str], user: User, scene: int = SCENE_FORUM
) -> tuple[str, str | None]:
    """WeChat's worst verdict on the texts (``{field: text}``) and the field it concerns:
    ``risky``, ``review``, ``unchecked`` (WeChat could not be reached: timeout, 5xx, errcode)
    or ``pass``. Never call it inside a transaction: it makes one HTTP call per text."""
    if not settings.WECHAT_CONTENT_CHECK or not user.openid:
        return PASS, None
    verdict: tuple[str, str | None] = (PASS, None)
    for field, text in texts.items():
        if not text or not text.strip():
            continue
        try:
            result = get_client().msg_sec_check(content=text, openid=user.openid, scene=scene)
        except WeChatError:
            return UNCHECKED, field  # one unreachable check holds the whole publication
        if result.suggest == RISKY:
            return RISKY, field
        if result.suggest == REVIEW:
            verdict = (REVIEW, field)
    return verdict


def content_screen(*, texts: dict[str, str], user: User, scene: int = SCENE_FORUM) -> str:
    """Screen every field of one publication (``{field: text}``) before the transaction that
    stores it. Raises 400 ``content_risky`` (naming the field) when WeChat says "risky";
    otherwise returns the worst verdict: ``pass``, ``review`` (WeChat wants a human look) or
    ``unchecked`` (WeChat could not be reached). The caller stores the object and, for
    anything but ``pass``, calls :func:`content_hold_for_review` in the same transaction: the
    text waits hidden in the moderation queue instead of being lost or shown unchecked.
    Does nothing (``pass``) when the check is switched off (development without WeChat) or
    the user has no openid (staff created in the admin)."""
    verdict, field = content_verdict(texts=texts, user=user, scene=scene)
    if verdict == RISKY:
        raise DomainError(
            _("This text cannot be published. Please change it and try again."),
            code="content_risky",
            field=field,
        )
    return verdict


def content_screen_strict(*, texts: dict[str, str], user: User, scene: int = SCENE_FORUM) -> None:
    """Screen short labels that cannot wait hidden in the queue (an announcement category's
    name): risky refuses as :func:`content_screen` does, and "review" or an unreachable WeChat
    refuse with 400 ``content_not_checked`` (change it or try again later), so nothing is
    shown unchecked and nothing half-stored waits."""
    verdict = content_screen(texts=texts, user=user, scene=scene)
    if verdict != PASS:
        raise content_not_checked(field=next(iter(texts), None))


def content_not_checked(*, field: str | None) -> DomainError:
    """The refusal for a text that cannot wait hidden in the moderation queue and was not
    passed (WeChat wants a human look, or could not be reached): 400 ``content_not_checked``."""
    return DomainError(
        _("This text could not be checked now. Please change it or try again later."),
        code="content_not_checked",
        field=field,
    )


def content_hold_for_review(
    *,
    verdict: str,
    community_id: str,
    target_kind: str,
    target_id: str,
    author_id: str,
    pending: dict[str, str] | None = None,
) -> bool:
    """Hide a just-stored publication whose verdict is not ``pass`` and open (or join) its
    case in the moderation queue. For a change of something members already see, pass the
    new texts as ``pending``: they are not applied, the old texts stay shown until a
    moderator (or a passing re-check) releases them. Call inside the storing transaction.
    True when held."""
    if verdict == PASS:
        return False
    from moderation.services.screening import screening_hold  # moderation builds on the core

    screening_hold(
        community_id=community_id,
        target_kind=target_kind,
        target_id=target_id,
        author_id=author_id,
        unchecked=verdict == UNCHECKED,
        pending=pending,
    )
    return True


def content_change_passed(
    *, community_id: str, target_kind: str, target_id: str, fields: set[str]
) -> None:
    """A change of ``fields`` passed the check and is applied: texts of these fields still
    held from an earlier change must not overwrite it when released. Call inside the storing
    transaction."""
    from moderation.services.holds import content_change_superseded

    content_change_superseded(
        community_id=community_id, target_kind=target_kind, target_id=target_id, fields=fields
    )


def content_hold_drop(*, community_id: str, target_kind: str, target_id: str) -> None:
    """A new text that passed the check replaced a held one (a note, a ballot's reason): the
    hold on the old text goes. Call inside the storing transaction."""
    from moderation.models import ContentHold

    ContentHold.objects.filter(
        community_id=community_id, target_kind=target_kind, target_id=target_id
    ).delete()
