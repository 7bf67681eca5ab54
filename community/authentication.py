"""``Authorization: Bearer <token>`` authentication against hashed, revocable tokens."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from community.models import AuthToken
from community.models.tokens import hash_token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Looks the token up by its SHA-256 hash; expired or revoked tokens and inactive users
    are refused with 401, so the mini-program knows to run ``wx.login`` again."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Malformed Authorization header: use 'Bearer <token>'.")
            )
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from exc
        token = (
            AuthToken.objects.select_related("user")
            .filter(
                key_hash=hash_token(raw), revoked_at__isnull=True, expires_at__gt=timezone.now()
            )
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(
                _("Your sign-in has expired or was revoked. Please sign in again.")
            )
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword
