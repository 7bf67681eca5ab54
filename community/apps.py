from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = _("Communities")

    def ready(self) -> None:
        from community import openapi  # noqa: F401  (registers the auth scheme extension)

        translate_derived_names()


#: The apps whose models the back office shows.
OUR_APPS = (
    "community",
    "polls",
    "surveys",
    "events",
    "roles",
    "announcements",
    "games",
    "insights",
    "assistant",
)


def translate_derived_names() -> None:
    """Fields declared without a ``verbose_name`` (``community``, ``user``, ``board``, ...) and
    models without one (``column``) get a name Django derives from the code, English in every
    language: the admin showed "COMMUNITY" in Chinese. Look the derived name up in the
    catalogue instead. Only the display name changes; what migrations see
    (``field._verbose_name``, ``Meta.original_attrs``) stays as declared, so no migration of
    about a hundred fields is needed."""
    from django.apps import apps

    for app_label in OUR_APPS:
        for model in apps.get_app_config(app_label).get_models():
            meta = model._meta
            if "verbose_name_plural" not in meta.original_attrs:
                meta.verbose_name_plural = _(str(meta.verbose_name_plural))
            if "verbose_name" not in meta.original_attrs:
                meta.verbose_name = _(str(meta.verbose_name))
            for field in meta.local_fields + meta.local_many_to_many:
                if getattr(field, "_verbose_name", "") is None:
                    field.verbose_name = _(field.verbose_name)
