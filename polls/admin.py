"""Django admin of polls: list, create/edit with sortable options, close/reopen/export, results.

Every write goes through ``polls.services`` with the moderator's membership (``admin_actor``),
so the admin obeys the same rules as the API: creating a poll here records the electorate and
schedules finalization exactly like ``POST /communities/{id}/polls``."""

from __future__ import annotations

import csv
from datetime import datetime

from adminsortable2.admin import CustomInlineFormSet, SortableAdminBase, SortableInlineAdminMixin
from django import forms
from django.contrib import admin
from django.db import transaction
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from community.admin import CommunityScopedAdmin
from community.authz import Action, admin_actor, admin_communities, can
from community.errors import DomainError
from community.models import Membership
from community.timezones import localize
from polls import services
from polls.models import Ballot, Option, Poll, PollKind, PollStatus
from polls.selectors import poll_results, secret_ballot_terms

CREATE_FIELDS = [
    "title",
    "description",
    "kind",
    "opens_at",
    "closes_at",
    "ranked_method",
    "min_selections",
    "max_selections",
    "min_score",
    "max_score",
    "allow_member_options",
    "secret",
    "publish_ballot_box",
    "results_visibility",
    "allow_vote_change",
    "min_ballots_to_show",
    "quorum_percent",
    "voters_visible",
    "reminder_hours",
]


class _DryRunSavepoint(Exception):
    """Raised to roll back the trial run of the services behind a poll's admin form."""


class OptionFormSet(CustomInlineFormSet):
    """Options of a poll. ``clean`` runs the services of the whole form (``poll_create`` for
    a new poll; ``poll_update`` and the option services for an edit) in a savepoint that is
    rolled back, so every rule of the services shows as a form error and a refused edit saves
    nothing, not even its allowed parts (the real run happens in ``PollAdmin.save_related``)."""

    request = None

    def clean(self):
        super().clean()
        poll = self.instance
        if self.request is None or not poll.community_id:
            return
        if any(form.errors for form in self.forms):
            return
        if not poll._state.adding and not hasattr(poll, "admin_changes"):
            return  # the poll's own form is invalid: its errors show first
        actor = admin_actor(self.request.user, poll.community)
        try:
            with transaction.atomic():
                if poll._state.adding:
                    fields = {name: getattr(poll, name) for name in CREATE_FIELDS}
                    services.poll_create(actor=actor, options=_option_rows([self]), **fields)
                else:
                    _apply_edit(
                        actor=actor, poll_id=poll.pk, changes=poll.admin_changes, formsets=[self]
                    )
                raise _DryRunSavepoint
        except _DryRunSavepoint:
            pass
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


@transaction.atomic
def _apply_edit(*, actor: Membership, poll_id: str, changes: dict, formsets) -> None:
    """Save a change form through the services, all or nothing: the poll's changed fields,
    then each changed option row (delete, add, or move/rename/reslot). Raises the first
    refusal."""
    if changes:
        services.poll_update(actor=actor, poll_id=poll_id, **changes)
    for formset in formsets:
        for f in formset.forms:
            if not f.cleaned_data or f.instance.pk is None and not f.has_changed():
                continue
            data = f.cleaned_data
            if data.get("DELETE") and f.instance.pk:
                services.option_delete(actor=actor, option_id=f.instance.pk)
            elif f.instance._state.adding:
                services.option_add(
                    actor=actor,
                    poll_id=poll_id,
                    label=data.get("label") or "",
                    starts_at=data.get("starts_at"),
                    ends_at=data.get("ends_at"),
                )
            elif f.has_changed():
                slot = {
                    k: data[k]
                    for k in ("label", "starts_at", "ends_at")
                    if k in f.changed_data and not _same_shown_time(data[k], f.initial.get(k))
                }
                services.option_update(
                    actor=actor, option_id=f.instance.pk, position=data.get("position"), **slot
                )


def _same_shown_time(new, stored) -> bool:
    """Whether a submitted time is the stored one as the form showed it: the admin shows
    times to the second, or to the minute in Chinese, so saving any other field would move
    the times (and refuse a poll past its closing time as "closing in the past")."""
    if not isinstance(new, datetime) or not isinstance(stored, datetime):
        return False
    return new in (stored.replace(microsecond=0), stored.replace(second=0, microsecond=0))


def _option_rows(formsets) -> list[dict]:
    """Option dicts in the admin's drag-and-drop order, without deleted rows."""
    return [
        {k: f.cleaned_data.get(k) for k in ("label", "starts_at", "ends_at")}
        for formset in formsets
        for f in sorted(formset.forms, key=lambda f: f.cleaned_data.get("position") or 0)
        if f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]


class OptionInline(SortableInlineAdminMixin, admin.TabularInline):
    model = Option
    formset = OptionFormSet
    fields = ["position", "label", "starts_at", "ends_at"]
    extra = 2
    ordering = ["position"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.request = request
        return formset

    # Permissions follow the poll page (community.authz), not Django's model permissions.
    def _allowed(self, request) -> bool:
        return request.user.is_active and (
            request.user.is_superuser or admin_communities(request.user).exists()
        )

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._allowed(request)


@admin.register(Poll)
class PollAdmin(SortableAdminBase, CommunityScopedAdmin):
    moderate_action = Action.MANAGE_POLL  # the same object rule as the services
    list_display = ["title", "community", "kind", "status_display", "turnout", "closes_at"]
    list_filter = ["kind", "secret", "community"]
    search_fields = ["title"]
    list_select_related = ["community"]
    inlines = [OptionInline]
    readonly_fields = [
        "voter_count",
        "eligible_count",
        "closed_at",
        "finalized_at",
        "secret_ballot_terms",
        "box_published_at",
        "results",
    ]
    actions = ["close_polls", "reopen_polls", "publish_ballot_boxes", "export_csv"]
    # Fields that apply to one kind only are shown for that kind (the theme's Alpine.js
    # conditions, evaluated as the kind changes); the options' time slots by poll_form.js.
    conditional_fields = {
        "ranked_method": "kind == 'ranked'",
        "min_selections": "kind == 'multiple'",
        "max_selections": "kind == 'multiple'",
        "min_score": "kind == 'score'",
        "max_score": "kind == 'score'",
        "allow_member_options": "kind != 'proposal'",
    }

    class Media:
        js = ["polls/admin/poll_form.js"]

    def get_fields(self, request, obj=None):
        base = ["community", *CREATE_FIELDS] if obj is None else CREATE_FIELDS
        return [*base, *([] if obj is None else self.readonly_fields)]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_add_permission(self, request) -> bool:
        return self._moderates_any(request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = admin_communities(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("status"))
    def status_display(self, obj: Poll) -> str:
        return str(PollStatus(obj.status).label)

    @admin.display(description=_("turnout"))
    def turnout(self, obj: Poll) -> str:
        percent = obj.turnout_percent
        return "–" if percent is None else f"{obj.voter_count}/{obj.eligible_count} ({percent}%)"

    def get_object(self, request, object_id, from_field=None):
        poll = super().get_object(request, object_id, from_field)
        if poll is not None:  # the results field shows them as this staff user may see them
            poll.admin_viewer = admin_actor(request.user, poll.community)
        return poll

    @admin.display(description=_("secret ballot terms"))
    def secret_ballot_terms(self, obj: Poll) -> str:
        terms = secret_ballot_terms(poll=obj)
        return "–" if terms is None else terms["statement"]

    @admin.display(description=_("results"))
    def results(self, obj: Poll) -> str:
        viewer = getattr(obj, "admin_viewer", None)
        if viewer is None:
            return "–"
        res = poll_results(poll=obj, viewer=viewer)
        labels = {o.pk: o.label for o in res.options}
        return mark_safe(  # noqa: S308 - rendered by the template engine, which escapes
            render_to_string(
                "admin/polls/poll/results.html",
                {
                    "poll": obj,
                    "res": res,
                    "bars": _bars(obj, res.result, labels) if res.visible else [],
                },
            )
        )

    # --- writes through the services -------------------------------------------------------
    def save_model(self, request, obj, form, change):
        """Nothing here: a new poll is created with its options in ``save_related`` by
        ``poll_create``; an edit is saved there too, poll and options in one go, after the
        option formset's dry run showed that the services accept all of it."""

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        for formset in formsets:  # the change message reads these; the services did the work
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if not change:
            actor = admin_actor(request.user, form.cleaned_data["community"])
            options = _option_rows(formsets)
            fields = {name: form.cleaned_data[name] for name in CREATE_FIELDS}
            poll = services.poll_create(actor=actor, options=options, **fields)
            for field in Poll._meta.concrete_fields:
                setattr(obj, field.attname, getattr(poll, field.attname))
            obj._state.adding = False
            obj._state.db = poll._state.db
            return
        actor = admin_actor(request.user, obj.community)
        self.run_service(
            request,
            _apply_edit,
            actor=actor,
            poll_id=obj.pk,
            changes=obj.admin_changes,
            formsets=formsets,
        )
        obj.refresh_from_db()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        admin_self = self

        class ValidatingForm(form):
            def clean(self):
                data = super().clean()
                if obj is not None:
                    # read by the option formset's dry run and by save_related
                    self.instance.admin_changes = {
                        name: data[name]
                        for name in self.changed_data
                        if name in CREATE_FIELDS
                        and name in data
                        and not _same_shown_time(data[name], getattr(obj, name))
                    }
                if obj is None and data.get("community"):
                    actor = admin_actor(request.user, data["community"])
                    if not can(actor, Action.CREATE_POLL):
                        raise forms.ValidationError(
                            _("You may not create polls in this community.")
                        )
                return data

        ValidatingForm.admin_self = admin_self
        return ValidatingForm

    def _each(self, request, queryset, service) -> None:
        self.run_for_each(
            request,
            queryset,
            service,
            id_argument="poll_id",
            done_message=_("%(count)d poll(s) updated."),
        )

    @admin.action(description=_("Close the selected polls now"))
    def close_polls(self, request, queryset):
        self._each(request, queryset, services.poll_close)

    @admin.action(description=_("Reopen the selected polls"))
    def reopen_polls(self, request, queryset):
        self._each(request, queryset, services.poll_reopen)

    @admin.action(description=_("Publish the ballot box of the selected closed secret polls"))
    def publish_ballot_boxes(self, request, queryset):
        self.run_for_each(
            request,
            queryset,
            services.poll_ballot_box_publish,
            id_argument="poll_id",
            done_message=_("%(count)d ballot box(es) published."),
        )

    @admin.action(description=_("Export results (and ballots of named polls) as CSV"))
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="polls.csv"'
        writer = csv.writer(response)
        for poll in queryset.select_related("community"):
            actor = admin_actor(request.user, poll.community)
            if not can(actor, Action.MODERATE):
                continue
            res = poll_results(poll=poll, viewer=actor)
            labels = {o.pk: o.label for o in res.options}
            writer.writerow(["poll", poll.pk, poll.title, poll.kind, poll.status])
            writer.writerow(["voters", res.voters, "eligible", poll.eligible_count or ""])
            writer.writerow(["option", "value"])
            for label, value, _width in _bars(poll, res.result, labels) if res.visible else []:
                writer.writerow([label, value])
            if not poll.secret:
                writer.writerow(["voter", "choices", "reason", "voted_at"])
                for ballot in Ballot.objects.filter(
                    community_id=poll.community_id, poll=poll
                ).select_related("voter"):
                    writer.writerow(
                        [
                            str(ballot.voter),
                            _describe(ballot.choices, labels),
                            ballot.reason,
                            localize(ballot.created_at, poll.community).isoformat(),
                        ]
                    )
            writer.writerow([])
        return response


def _describe(choices: dict, labels: dict) -> str:
    for value in choices.values():
        if isinstance(value, list):
            return " > ".join(labels.get(v, v) for v in value)
        if isinstance(value, dict):
            return "; ".join(f"{labels.get(k, k)}: {v}" for k, v in value.items())
        return str(value)
    return ""


def _bars(poll: Poll, result: dict, labels: dict) -> list[tuple[str, str, int]]:
    """(label, figure, bar width %) rows of a visible ``result`` for the chart and the CSV."""
    if poll.kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        return [
            (labels.get(o["option"], o["option"]), o["count"], o["percent"])
            for o in result["options"]
        ]
    if poll.kind == PollKind.RANKED:
        if "rounds" in result:
            last = result["rounds"][-1]["counts"] if result["rounds"] else {}
            total = sum(last.values()) or 1
            return [(labels.get(k, k), n, round(100 * n / total)) for k, n in last.items()]
        top = max((o["points"] for o in result["options"]), default=0) or 1
        return [
            (labels.get(o["option"], o["option"]), o["points"], round(100 * o["points"] / top))
            for o in result["options"]
        ]
    if poll.kind == PollKind.SCORE:
        span = (poll.max_score - poll.min_score) or 1
        return [
            (
                labels.get(o["option"], o["option"]),
                o["mean"],
                0 if o["mean"] is None else round(100 * (o["mean"] - poll.min_score) / span),
            )
            for o in result["options"]
        ]
    if poll.kind == PollKind.PROPOSAL:
        return [(p["position"], p["count"], p["percent"]) for p in result["positions"]]
    top = max((s["available"] for s in result["slots"]), default=0) or 1
    return [
        (labels.get(s["option"], s["option"]), s["available"], round(100 * s["available"] / top))
        for s in result["slots"]
    ]
