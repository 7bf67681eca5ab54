"""Lucky draws in the admin: created through ``draw_create`` (the same rules as the API), shown
with their commitment, entry list and result; "draw now" is an admin action calling
``draw_perform``."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from community.admin import CommunityScopedAdmin
from community.authz import Action, admin_actor, admin_communities
from community.errors import DomainError
from games import services
from games.models import Draw, DrawSource


class DrawForm(forms.ModelForm):
    """Creating runs ``draw_create`` in ``clean``; a refusal is a form error, nothing stored.
    Prizes are typed one per line as ``name x quantity`` (``一等奖 耳机 x1``)."""

    prizes_text = forms.CharField(
        label=_("Prizes"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_('One per line, first prize first: "name x quantity".'),
    )
    # Optional (0 when left out): only a quiz-fed draw takes a bar; the service checks it.
    min_points = forms.IntegerField(
        label=Draw._meta.get_field("min_points").verbose_name,
        help_text=Draw._meta.get_field("min_points").help_text,
        required=False,
        initial=0,
        min_value=0,
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        actor = admin_actor(self.request.user, data["community"])
        prizes = []
        for line in (data.get("prizes_text") or "").splitlines():
            if not line.strip():
                continue
            name, _sep, quantity = line.rpartition("x")
            if not name.strip() or not quantity.strip().isdigit():
                self.add_error("prizes_text", _('Write each prize as "name x quantity".'))
                return data
            prizes.append({"name": name.strip(), "quantity": int(quantity)})
        try:
            if actor is None:
                raise DomainError(_("You do not manage this community."), code="not_a_member")
            self.saved = services.draw_create(
                actor=actor,
                title=data["title"],
                prizes=prizes,
                closes_at=data["closes_at"],
                source=data["source"],
                source_id=data.get("source_id") or "",
                claim_hours=data["claim_hours"],
                exclude_organizer=data["exclude_organizer"],
                exclude_recent_winners_days=data["exclude_recent_winners_days"],
                min_points=data.get("min_points") or 0,
            )
        except DomainError as exc:
            field = exc.field if exc.field in self.fields else None
            if exc.field == "prizes":
                field = "prizes_text"
            self.add_error(field, exc.message)
        return data


CREATE_FIELDS = [
    "community",
    "title",
    "prizes_text",
    "source",
    "source_id",
    "min_points",
    "closes_at",
    "claim_hours",
    "exclude_organizer",
    "exclude_recent_winners_days",
]
SHOWN = [
    "community",
    "title",
    "source",
    "source_id",
    "min_points",
    "closes_at",
    "claim_hours",
    "drawn_at",
    "entry_count",
    "entries_hash",
    "commitments",
    "entry_ids",
    "result",
]


@admin.register(Draw)
class DrawAdmin(CommunityScopedAdmin):
    moderate_action = Action.MANAGE_DRAW
    list_display = ["title", "community", "source", "closes_at", "drawn_at", "entry_count"]
    list_filter = ["source"]
    list_select_related = ["community"]
    ordering = ["-created_at"]
    search_fields = ["title"]
    actions = ["draw_now"]

    def get_fields(self, request, obj=None):
        return SHOWN if obj is not None else CREATE_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return SHOWN if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = DrawForm
            kwargs["fields"] = [f for f in CREATE_FIELDS if f != "prizes_text"]
        form = super().get_form(request, obj, change=change, **kwargs)
        if "community" in form.base_fields:
            form.base_fields["community"].queryset = admin_communities(request.user)

        class RequestForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                self.request = request

        return RequestForm

    def has_add_permission(self, request) -> bool:
        return self._moderates_any(request)

    def save_model(self, request, obj, form, change):
        """The service saved it in the form's ``clean``; copy the stored row back."""
        if not change:
            obj.pk = form.saved.pk
            obj.__dict__.update(Draw.objects.get(pk=form.saved.pk).__dict__)

    def save_related(self, request, form, formsets, change):
        return None

    @admin.display(description=_("Commitments"))
    def commitments(self, obj: Draw):
        return format_html_join(
            "\n",
            "<div>{}: <code>{}</code> {}</div>",
            (
                (r.number, r.commitment, f"seed {r.seed}" if r.seed else "")
                for r in obj.rounds.all()
            ),
        )

    @admin.display(description=_("Entry list"))
    def entry_ids(self, obj: Draw):
        return ", ".join(obj.entries.order_by("entry_id").values_list("entry_id", flat=True))

    @admin.display(description=_("Result"))
    def result(self, obj: Draw):
        rows = obj.winners.select_related("prize", "entry", "user", "round")
        return format_html_join(
            "\n",
            "<div>{} · {} · <code>{}</code> {} ({})</div>",
            (
                (
                    w.round.number,
                    w.prize.name,
                    w.entry.entry_id,
                    w.user.nickname,
                    "claimed" if w.claimed_at else ("forfeited" if w.forfeited_at else "unclaimed"),
                )
                for w in rows
            ),
        )

    @admin.action(description=_("Draw now"))
    def draw_now(self, request, queryset):
        self.run_for_each(
            request,
            queryset,
            services.draw_perform,
            id_argument="draw_id",
            done_message=_("Drawn: %(count)d."),
        )


__all__ = ["DrawAdmin", "DrawSource"]
