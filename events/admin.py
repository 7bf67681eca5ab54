"""The moderators' back office of events (in Chinese), calling the same services as the API.

* **Events**: counts in the list (confirmed people / capacity, waitlist, checked in), the
  attendees inline on the event page with status filters (``?registration_status=...``),
  exports (CSV/XLSX with the form answers, through the shared export machinery), a printable
  attendee list, cancellation. Creating and editing go through ``event_create`` /
  ``event_update``: their refusals show as form errors (a dry run in a rolled-back savepoint).
* **Registrations**: filtered by event and status, with the organizer's actions: approve,
  reject, move from the waitlist, check in by hand, undo a check-in, remove.

Staff see only the events of communities where they are a moderator or above
(``CommunityScopedAdmin``); every action acts as the staff user's membership there, so the
rules (``MANAGE_EVENT``, the seat guard) are the API's.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from community.admin import CommunityScopedAdmin
from community.authz import Action, admin_actor, admin_communities, can
from community.errors import DomainError
from community.exports import ExportStatus
from community.timezones import localize
from events import services
from events.models import (
    CheckIn,
    Event,
    EventMode,
    Registration,
    RegistrationStatus,
)
from events.models_edges import AttendeeExport
from events.roster import attendance_counts
from events.services.checkin import checkin_by_hand, checkin_undo
from events.services.exports import attendee_export_file, attendee_export_request
from events.services.moves import registration_move_from_waitlist
from surveys.forms import add_refusal, service_refusal

STATUS_PARAM = "registration_status"


def _annotated(queryset):
    """Events with their counts, one statement whatever the number of events: confirmed
    people (member + guests), live waitlist entries and people checked in."""
    confirmed = (
        Registration.objects.filter(event_id=OuterRef("pk"), status=RegistrationStatus.CONFIRMED)
        .order_by()
        .values("event_id")
        .annotate(n=Sum("seats"))
        .values("n")
    )
    checked = (
        CheckIn.objects.filter(event_id=OuterRef("pk"))
        .order_by()
        .values("event_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(
        confirmed_people=Coalesce(Subquery(confirmed, output_field=IntegerField()), 0),
        checked_in_people=Coalesce(Subquery(checked, output_field=IntegerField()), 0),
    )


class RegistrationInline(admin.TabularInline):
    """The attendees on the event page, read only (the actions are on the registrations
    page); ``?registration_status=confirmed`` on the event page filters them."""

    model = Registration
    extra = 0
    can_delete = False
    fields = [
        "member",
        "status",
        "guests",
        "note",
        "signed_up_at",
        "waitlist_seq",
        "checked_in",
    ]
    readonly_fields = fields
    verbose_name_plural = _("attendees")
    ordering = ["signed_up_at"]

    def get_queryset(self, request):
        qs = (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(people_in=Count("checkins"))
        )
        wanted = request.GET.get(STATUS_PARAM)
        if wanted in RegistrationStatus.values:
            qs = qs.filter(status=wanted)
        return qs

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    @admin.display(description=_("member"))
    def member(self, obj: Registration) -> str:
        return obj.user.nickname or obj.user.username

    @admin.display(description=_("checked in (people)"))
    def checked_in(self, obj: Registration) -> int:
        return obj.people_in


class AttendeeExportInline(admin.TabularInline):
    model = AttendeeExport
    extra = 0
    can_delete = False
    fields = ["format", "status", "progress", "created_at", "download"]
    readonly_fields = fields
    verbose_name_plural = _("attendee exports")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    @admin.display(description=_("progress"))
    def progress(self, obj: AttendeeExport) -> str:
        return format_html(
            '<progress max="100" value="{}"></progress> {} / {}',
            obj.progress_percent,
            obj.rows_done,
            obj.rows_total,
        )

    @admin.display(description=_("file"))
    def download(self, obj: AttendeeExport) -> str:
        if obj.status != ExportStatus.DONE:
            return obj.error[:200] if obj.status == ExportStatus.FAILED else "-"
        url = reverse("admin:events_event_export_download", args=[obj.event_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Download"))


def _event_fields(form, *, changed_only: bool) -> dict:
    return {
        name: form.cleaned_data[name]
        for name in services.EDITABLE
        if name in form.cleaned_data and (not changed_only or name in form.changed_data)
    }


def _event_call(actor, event: Event | None, form, fields: dict):
    if event is None:
        data = form.cleaned_data
        return lambda: services.event_create(
            actor=actor,
            mode=data["mode"],
            **fields,
        )
    return lambda: services.event_update(actor=actor, event_id=event.pk, **fields)


@admin.register(Event)
class EventAdmin(CommunityScopedAdmin):
    moderate_action = Action.MANAGE_EVENT
    list_display = [
        "title",
        "community",
        "mode",
        "starts_at_local",
        "status_display",
        "confirmed_display",
        "waitlist_count",
        "checked_in_display",
        "links",
    ]
    list_filter = ["mode", "community"]
    search_fields = ["title"]
    list_select_related = ["community"]
    inlines = [RegistrationInline, AttendeeExportInline]
    actions = ["cancel_events", "export_csv", "export_xlsx"]
    # A quick sign-up list (接龙) has no form and no approval and always shows its list (the
    # services refuse them): the form shows those fields for a full event only.
    conditional_fields = {
        "form": "mode == 'full'",
        "requires_approval": "mode == 'full'",
        "attendees_visible": "mode == 'full'",
    }
    readonly_fields = [
        "seats_taken",
        "waitlist_count",
        "attendance",
        "attendee_filters",
        "links",
    ]
    fieldsets = [
        (None, {"fields": ["community", "mode", "title", "description", "links"]}),
        (
            _("Time and place"),
            {
                "fields": [
                    ("starts_at", "ends_at"),
                    ("signup_opens_at", "signup_closes_at"),
                    "cancel_deadline",
                    ("location_name", "location_address"),
                    ("latitude", "longitude"),
                ]
            },
        ),
        (
            _("Seats and sign-up"),
            {
                "fields": [
                    ("capacity", "max_guests"),
                    "requires_approval",
                    "attendees_visible",
                    ("waitlist_offers", "offer_hours"),
                    "reminder_hours",
                    "fee_note",
                    "cover_url",
                    "form",
                ]
            },
        ),
        (
            _("Check-in"),
            {
                "fields": [
                    "self_checkin_enabled",
                    ("self_checkin_opens_at", "self_checkin_closes_at"),
                ]
            },
        ),
        (
            _("Attendance"),
            {"fields": ["seats_taken", "waitlist_count", "attendance", "attendee_filters"]},
        ),
    ]

    def get_queryset(self, request):
        return _annotated(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["community", "mode"]
        return fields

    def has_add_permission(self, request) -> bool:
        return self._moderates_any(request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = admin_communities(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class EventForm(form_class):
            """Shows the refusals of ``event_create``/``event_update`` as form errors."""

            def clean(self):
                data = super().clean()
                if self.errors:
                    return data
                community = obj.community if obj is not None else data.get("community")
                actor = admin_actor(request.user, community) if community else None
                if actor is None:
                    return data
                fields = _event_fields(self, changed_only=obj is not None)
                if obj is not None and not fields:
                    return data
                call = _event_call(actor, obj, self, fields)
                refusal = service_refusal([(0, call)]).get(0)
                if refusal is not None:
                    add_refusal(self, refusal, fields={})
                return data

        return EventForm

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request.user, obj.community)
        fields = _event_fields(form, changed_only=change)
        if change:
            obj.refresh_from_db()
            if fields:
                self.run_service(request, _event_call(actor, obj, form, fields))
                obj.refresh_from_db()
            return
        event = _event_call(actor, None, form, fields)()
        for field in Event._meta.concrete_fields:
            setattr(obj, field.attname, getattr(event, field.attname))
        obj._state.adding = False
        obj._state.db = event._state.db

    def save_formset(self, request, form, formset, change):
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    # --- list columns ------------------------------------------------------------------------
    @admin.display(description=_("starts at"), ordering="starts_at")
    def starts_at_local(self, obj: Event) -> str:
        return f"{localize(obj.starts_at, obj.community):%Y-%m-%d %H:%M}"

    @admin.display(description=_("status"))
    def status_display(self, obj: Event) -> str:
        from events.models import EventStatus

        return str(EventStatus(obj.status).label)

    @admin.display(description=_("confirmed / capacity"))
    def confirmed_display(self, obj: Event) -> str:
        capacity = "∞" if obj.capacity is None else obj.capacity
        return f"{obj.confirmed_people} / {capacity}"

    @admin.display(description=_("checked in"))
    def checked_in_display(self, obj: Event) -> int:
        return obj.checked_in_people

    @admin.display(description=_("pages"))
    def links(self, obj: Event) -> str:
        if obj is None or obj.pk is None:
            return "-"
        registrations = reverse("admin:events_registration_changelist")
        return format_html(
            '<a href="{}">{}</a> · <a href="{}?event__id__exact={}">{}</a>',
            reverse("admin:events_event_print", args=[obj.pk]),
            gettext("Printable list"),
            registrations,
            obj.pk,
            gettext("Manage attendees"),
        )

    @admin.display(description=_("attendance"))
    def attendance(self, obj: Event) -> str:
        counts = attendance_counts(event=obj)
        return gettext(
            "%(confirmed)d confirmed sign-ups, %(people)d people checked in, "
            "%(missing)d sign-ups not checked in"
        ) % {
            "confirmed": counts["confirmed"],
            "people": counts["checked_in_people"],
            "missing": counts["not_checked_in"],
        }

    @admin.display(description=_("show attendees"))
    def attendee_filters(self, obj: Event) -> str:
        base = reverse("admin:events_event_change", args=[obj.pk])
        links = [format_html('<a href="{}">{}</a>', base, gettext("all"))]
        for value, label in RegistrationStatus.choices:
            links.append(format_html('<a href="{}?{}={}">{}</a>', base, STATUS_PARAM, value, label))
        return format_html(" · ".join(["{}"] * len(links)), *links)

    # --- actions -----------------------------------------------------------------------------
    @admin.action(description=_("Cancel the selected events (everyone is told)"))
    def cancel_events(self, request, queryset):
        self.run_for_each(
            request,
            queryset,
            services.event_cancel,
            id_argument="event_id",
            done_message=gettext("%(count)d event(s) cancelled."),
        )

    def _export(self, request, queryset, format: str) -> None:
        done = 0
        for event in queryset.select_related("community"):
            actor = admin_actor(request.user, event.community)
            if self.run_service(
                request, attendee_export_request, actor=actor, event=event, format=format
            ):
                done += 1
        if done:
            self.message_user(
                request,
                gettext("%(count)d export(s) started; the file appears on the event's page.")
                % {"count": done},
                messages.SUCCESS,
            )

    @admin.action(description=_("Export attendees (CSV)"))
    def export_csv(self, request, queryset):
        self._export(request, queryset, "csv")

    @admin.action(description=_("Export attendees (XLSX)"))
    def export_xlsx(self, request, queryset):
        self._export(request, queryset, "xlsx")

    # --- custom pages ------------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<str:event_id>/print/", wrap(self.print_view), name="events_event_print"),
            path(
                "<str:event_id>/export/<str:format>/",
                wrap(require_POST(self.export_view)),
                name="events_event_export",
            ),
            path(
                "<str:event_id>/exports/<str:export_id>/download/",
                wrap(self.download_view),
                name="events_event_export_download",
            ),
            *super().get_urls(),
        ]

    def _visible_event(self, request, event_id: str) -> Event:
        event = self.get_queryset(request).filter(pk=event_id).first()
        if event is None or not self.has_change_permission(request, event):
            raise Http404
        return event

    def print_view(self, request, event_id: str):
        """A printable attendee list: confirmed people in sign-up order with a column to tick
        or sign at the door, then the waitlist."""
        event = self._visible_event(request, event_id)
        base = Registration.objects.filter(
            community_id=event.community_id, event_id=event.pk
        ).select_related("user")
        confirmed = base.filter(status=RegistrationStatus.CONFIRMED).order_by("signed_up_at", "pk")
        waiting = base.filter(
            status__in=[RegistrationStatus.OFFERED, RegistrationStatus.WAITLISTED]
        ).order_by("waitlist_seq", "pk")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "event": event,
            "title": event.title,
            "starts_at": localize(event.starts_at, event.community),
            "confirmed": confirmed,
            "waiting": waiting,
            "is_quick": event.mode == EventMode.QUICK,
        }
        return TemplateResponse(request, "admin/events/print.html", context)

    def export_view(self, request, event_id: str, format: str):
        event = self._visible_event(request, event_id)
        actor = admin_actor(request.user, event.community)
        try:
            with transaction.atomic():
                attendee_export_request(actor=actor, event=event, format=format)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, gettext("The export has started."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:events_event_change", args=[event.pk]))

    def download_view(self, request, event_id: str, export_id: str):
        """The only way an attendee export leaves the server: streamed to whoever may manage
        the event (the storage has no URL), never cached on the way."""
        event = self._visible_event(request, event_id)
        actor = admin_actor(request.user, event.community)
        try:
            handle, name = attendee_export_file(actor=actor, event=event, export_id=export_id)
        except DomainError as exc:
            raise Http404 from exc
        response = FileResponse(handle, as_attachment=True, filename=name)
        response["Cache-Control"] = "private, no-store"
        return response


@admin.register(Registration)
class RegistrationAdmin(CommunityScopedAdmin):
    moderate_action = Action.MANAGE_EVENT
    list_display = [
        "member",
        "event",
        "status",
        "guests",
        "note",
        "signed_up_at",
        "waitlist_seq",
        "checked_in",
    ]
    list_filter = ["status", "event"]
    search_fields = ["user__nickname", "event__title", "note"]
    list_select_related = ["user", "event", "community"]
    actions = [
        "approve",
        "reject",
        "move_from_waitlist",
        "check_in",
        "undo_check_in",
        "remove",
    ]
    readonly_fields = [
        "event",
        "user",
        "status",
        "guests",
        "guests_wanted",
        "seats",
        "accept_partial",
        "note",
        "answers",
        "signed_up_at",
        "waitlist_seq",
        "offer_expires_at",
        "cancel_reason",
        "decided_by",
        "confirmed_at",
        "cancelled_at",
    ]
    exclude = ["community", "checkin_secret"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(people_in=Count("checkins"))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self._moderates_any(request)
        return can(admin_actor(request.user, obj.community), Action.MANAGE_EVENT, obj=obj.event)

    @admin.display(description=_("member"), ordering="user__nickname")
    def member(self, obj: Registration) -> str:
        return obj.user.nickname or obj.user.username

    @admin.display(description=_("checked in (people)"))
    def checked_in(self, obj: Registration) -> int:
        return obj.people_in

    def _each(self, request, queryset, call, done_message: str) -> None:
        done = 0
        for registration in queryset.select_related("community", "event"):
            actor = admin_actor(request.user, registration.community)
            if actor is None:
                continue
            if self.run_service(request, call, actor=actor, registration=registration):
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Approve"))
    def approve(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda actor, registration: services.registration_approve(
                actor=actor, event_id=registration.event_id, registration_id=registration.pk
            ),
            gettext("%(count)d sign-up(s) approved."),
        )

    @admin.action(description=_("Reject"))
    def reject(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda actor, registration: services.registration_reject(
                actor=actor, event_id=registration.event_id, registration_id=registration.pk
            ),
            gettext("%(count)d sign-up(s) rejected."),
        )

    @admin.action(description=_("Move from the waitlist into the event"))
    def move_from_waitlist(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda actor, registration: registration_move_from_waitlist(
                actor=actor, event_id=registration.event_id, registration_id=registration.pk
            ),
            gettext("%(count)d sign-up(s) moved into the event."),
        )

    @admin.action(description=_("Check in (with all guests)"))
    def check_in(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda actor, registration: checkin_by_hand(
                actor=actor, event=registration.event, registration_id=registration.pk
            ),
            gettext("%(count)d sign-up(s) checked in."),
        )

    @admin.action(description=_("Undo check-in"))
    def undo_check_in(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda actor, registration: checkin_undo(
                actor=actor, event=registration.event, registration_id=registration.pk
            ),
            gettext("%(count)d check-in(s) taken back."),
        )

    @admin.action(description=_("Remove from the event"))
    def remove(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda actor, registration: services.registration_remove(
                actor=actor, event_id=registration.event_id, registration_id=registration.pk
            ),
            gettext("%(count)d sign-up(s) removed."),
        )
