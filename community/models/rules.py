"""The history of a community's group rules: one row per published version."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RulesVersion(models.Model):
    """One published version of the group rules (群规): its text, the change summary members
    read with it, and when the one reminder to those who had not accepted it a week later was
    queued (``reminded_at``; the reminder job skips a version once set).

    ``Community.rules_text``/``rules_version`` stay the current rules (authz reads them with the
    membership at no extra cost); a row here is written by ``community_update`` in the same
    transaction that bumps the version."""

    community = models.ForeignKey(
        "community.Community", on_delete=models.CASCADE, related_name="rules_versions"
    )
    version = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("group rules"), blank=True, default="")
    summary = models.CharField(_("change summary"), max_length=500, blank=True, default="")
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    reminded_at = models.DateTimeField(_("reminder queued at"), null=True, blank=True)

    class Meta:
        verbose_name = _("group rules version")
        verbose_name_plural = _("group rules versions")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "version"], name="rules_version_one_per_number"
            )
        ]
        indexes = [models.Index(fields=["reminded_at", "published_at"])]

    def __str__(self) -> str:
        return f"{self.community_id} v{self.version}"
