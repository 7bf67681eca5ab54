"""Users: WeChat members (no password) and staff moderators (password for the admin)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.ids import OpaqueCharField, PublicIdField


class UserManager(BaseUserManager["User"]):
    """Creates members (unusable password) and staff users."""

    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra) -> User:
        user = self.model(username=username, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Members sign in with WeChat and have no usable password; moderators who use the
    Django admin are ``is_staff`` with a password. ``openid`` is the user's id in our
    mini-program; the WeChat ``session_key`` lives in :class:`WeChatSession`, never here, so that
    no serializer or admin form can expose it by accident."""

    id = PublicIdField()
    username = models.CharField(_("username"), max_length=64, unique=True)
    openid = OpaqueCharField(_("WeChat openid"), max_length=64, unique=True, null=True, blank=True)
    unionid = models.CharField(_("WeChat unionid"), max_length=64, blank=True, default="")
    nickname = models.CharField(_("nickname"), max_length=64, blank=True, default="")
    avatar_url = models.URLField(_("avatar URL"), max_length=500, blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.nickname or self.username


class WeChatSession(models.Model):
    """The latest WeChat ``session_key`` of a user, needed to decrypt share-ticket data.

    It is a credential: it never appears in an API response, the admin or a log."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="wechat_session")
    session_key = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("WeChat session")
        verbose_name_plural = _("WeChat sessions")

    def __str__(self) -> str:
        return f"WeChat session of {self.user_id}"
