"""API bearer tokens, hashed at rest."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.hashing import sha256_hex
from community.ids import OpaqueCharField
from community.models.users import User


def hash_token(raw: str) -> str:
    """SHA-256 of a token. Tokens carry 256 random bits, so a fast hash is enough."""
    return sha256_hex(raw)


class AuthToken(models.Model):
    """A bearer token issued at login. Only its hash is stored; the raw value is shown once.

    A token is valid while it is not revoked and not expired. Logout revokes the token; a ban
    revokes every token of the banned user."""

    key_hash = OpaqueCharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_tokens")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"token {self.pk} of {self.user_id}"

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
