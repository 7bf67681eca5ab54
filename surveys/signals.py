"""Bump ``Survey.version`` whenever a page, question or choice changes, so the cached engine
definition (``surveys.definition``) is never stale -- whoever made the change."""

from __future__ import annotations

from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from surveys.models import Choice, Page, Question, Survey


@receiver(post_save, sender=Page)
@receiver(post_save, sender=Question)
@receiver(post_save, sender=Choice)
@receiver(post_delete, sender=Page)
@receiver(post_delete, sender=Question)
@receiver(post_delete, sender=Choice)
def bump_survey_version(sender, instance, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    Survey.objects.filter(pk=instance.survey_id).update(version=F("version") + 1)
