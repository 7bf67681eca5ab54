from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = _("Communities")

    def ready(self) -> None:
        from community import openapi  # noqa: F401  (registers the auth scheme extension)
