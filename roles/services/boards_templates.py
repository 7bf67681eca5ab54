"""Boards made from a template: the preparation board of an event.

The template holds the work every event needs, due relative to the event's start: the poster
7 days before, the reminder 1 day before, the check-in on the day. Moving the event later does
not move the tasks (they are ordinary tasks once made; editors change their dates)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from community.errors import Conflict, NotFound
from community.models import Membership
from events.models import Event
from roles.models import Board, BoardVisibility
from roles.services.boards import board_create, clean_role, require_editor
from roles.services.tasks_edit import task_create

#: (title, description, due relative to the event's start)
EVENT_TEMPLATE = (
    (
        gettext_lazy("Poster"),
        gettext_lazy("Design the poster and share it in the group."),
        timedelta(days=-7),
    ),
    (
        gettext_lazy("Reminder"),
        gettext_lazy("Remind everyone who signed up: time, place, what to bring."),
        timedelta(days=-1),
    ),
    (
        gettext_lazy("Check-in"),
        gettext_lazy("Check people in at the venue with the QR code."),
        timedelta(0),
    ),
)


def board_create_for_event(
    *,
    actor: Membership,
    event_id: str,
    owning_role_id: str | None = None,
    visibility: str = BoardVisibility.MEMBERS,
) -> Board:
    """The preparation board of an event of ``actor``'s community, from :data:`EVENT_TEMPLATE`
    (tasks due relative to the event's start, owned by ``owning_role_id`` if given). One board
    per event: 409 ``event_has_board`` for a second. Board editors only."""
    require_editor(actor)
    event = Event.objects.filter(pk=event_id, community_id=actor.community_id).first()
    if event is None:
        raise NotFound(_("Event not found."))
    owning_role_id = clean_role(actor.community_id, owning_role_id, field="owning_role_id")
    with transaction.atomic():
        if Board.objects.filter(community_id=actor.community_id, event_id=event.pk).exists():
            raise Conflict(_("This event already has a board."), code="event_has_board")
        board = board_create(actor=actor, title=event.title[:100], visibility=visibility)
        Board.objects.filter(pk=board.pk).update(event=event)
        board.event = event
        for title, description, offset in EVENT_TEMPLATE:
            task_create(
                actor=actor,
                board=board,
                title=str(title),
                description=str(description),
                due_at=event.starts_at + offset,
                owning_role_id=owning_role_id,
            )
    return board
