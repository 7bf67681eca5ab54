"""Signing in and member profiles."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from community.authz import VISIBLE_STATUSES
from community.errors import DomainError
from community.models import Membership, User, WeChatSession
from community.services.content import (
    PASS,
    SCENE_PROFILE,
    content_change_passed,
    content_hold_for_review,
    content_not_checked,
    content_screen,
)
from community.services.tokens import IssuedToken, token_issue
from community.text import member_text
from community.wechat import WeChatError, as_domain_error, get_client


@transaction.atomic
def _user_for_openid(*, openid: str, unionid: str, session_key: str) -> User:
    user, _created = User.objects.get_or_create(
        openid=openid, defaults={"username": f"wx_{openid}", "unionid": unionid}
    )
    if unionid and user.unionid != unionid:
        user.unionid = unionid
        user.save(update_fields=["unionid"])
    WeChatSession.objects.update_or_create(user=user, defaults={"session_key": session_key})
    return user


def user_login_wechat(*, code: str) -> tuple[User, IssuedToken]:
    """Exchange a ``wx.login`` code for a user and a token.

    The code goes to WeChat's code2Session outside any transaction (a network call must not hold
    database locks); the session_key it returns is stored server-side only, for decrypting share
    tickets later."""
    try:
        session = get_client().code2session(code)
    except WeChatError as exc:
        raise as_domain_error(exc) from exc
    user = _user_for_openid(
        openid=session.openid, unionid=session.unionid, session_key=session.session_key
    )
    if not user.is_active:
        raise DomainError(_("This account has been disabled."), code="account_disabled")
    return user, token_issue(user=user)


@transaction.atomic
def user_login_dev(*, nickname: str) -> tuple[User, IssuedToken]:
    """Development login without WeChat (only reachable when ``DEV_LOGIN_ENABLED``): the
    nickname identifies the demo user."""
    if not settings.DEV_LOGIN_ENABLED:
        raise DomainError(_("The development login is disabled."), code="dev_login_disabled")
    user, _created = User.objects.get_or_create(
        username=f"dev_{nickname}", defaults={"nickname": nickname}
    )
    return user, token_issue(user=user)


def user_update_profile(
    *, user: User, nickname: str | None = None, avatar_url: str | None = None
) -> User:
    """Change the member's nickname and/or avatar. A new nickname, in ``community.text``'s
    normal form, is screened by WeChat's content check before the transaction: risky refuses
    (400 ``content_risky``); "review" or WeChat unreachable keep the old nickname and put the
    new one in the moderation queue of every community the member is in (it is shown in all
    of them): released by a moderator of any of them, or by a passing re-check, it replaces
    the old one. A member of no community has no moderator to wait for: 400
    ``content_not_checked`` (choose another nickname, or try again later)."""
    fields = []
    if nickname is not None:
        nickname = member_text(nickname, field="nickname", max_length=64)
    verdict = PASS
    if nickname is not None and nickname != user.nickname:
        verdict = content_screen(texts={"nickname": nickname}, user=user, scene=SCENE_PROFILE)
    with transaction.atomic():
        if nickname is not None and nickname != user.nickname:
            community_ids = list(
                Membership.objects.filter(user=user, status__in=VISIBLE_STATUSES).values_list(
                    "community_id", flat=True
                )
            )
            if verdict == PASS:
                user.nickname = nickname
                fields.append("nickname")
                for community_id in community_ids:
                    content_change_passed(
                        community_id=community_id,
                        target_kind="nickname",
                        target_id=user.pk,
                        fields={"nickname"},
                    )
            elif not community_ids:
                raise content_not_checked(field="nickname")
            for community_id in community_ids if verdict != PASS else ():
                content_hold_for_review(
                    verdict=verdict,
                    community_id=community_id,
                    target_kind="nickname",
                    target_id=user.pk,
                    author_id=user.pk,
                    pending={"nickname": nickname},
                )
        if avatar_url is not None and avatar_url != user.avatar_url:
            user.avatar_url = avatar_url
            fields.append("avatar_url")
        if fields:
            user.save(update_fields=fields)
    return user
