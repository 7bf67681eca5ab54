"""Issuing and revoking API tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from community.models import AuthToken, User
from community.models.tokens import hash_token


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: ``raw`` is shown to the client once and never stored."""

    raw: str
    expires_at: datetime
    token: AuthToken


def token_issue(*, user: User) -> IssuedToken:
    """Create a token for ``user``; only its hash is stored."""
    raw = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=settings.AUTH_TOKEN_TTL_DAYS)
    token = AuthToken.objects.create(user=user, key_hash=hash_token(raw), expires_at=expires_at)
    return IssuedToken(raw=raw, expires_at=expires_at, token=token)


def token_revoke(*, token: AuthToken) -> None:
    """Revoke one token (logout)."""
    AuthToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def tokens_revoke_all(*, user: User) -> int:
    """Revoke every live token of ``user`` (ban, account deactivation). Returns how many."""
    return AuthToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
