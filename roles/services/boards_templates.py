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
from roles.models import ActivityVerb, Board, BoardVisibility, Task
from roles.positions import spread
from roles.services.boards import (
    activity_record,
    board_rows_create,
    clean_role,
    default_columns,
    require_editor,
)

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
        board = board_rows_create(
            actor=actor,
            title=event.title[:100],
            description="",
            visibility=visibility,
            columns=default_columns(),
            event_id=event.pk,
        )
        first = board.columns.order_by("position").first()
        tasks = Task.objects.bulk_create(
            Task(
                community_id=board.community_id,
                board=board,
                column=first,
                position=position,
                title=str(title),
                description=str(description),
                due_at=event.starts_at + offset,
                owning_role_id=owning_role_id,
                created_by_id=actor.user_id,
            )
            for (title, description, offset), position in zip(
                EVENT_TEMPLATE, spread(len(EVENT_TEMPLATE)), strict=True
            )
        )
        for task in tasks:
            activity_record(
                actor=actor,
                board_id=board.pk,
                community_id=board.community_id,
                task_id=task.pk,
                verb=ActivityVerb.TASK_CREATED,
                title=task.title,
                column=first.pk,
            )
    board.event = event
    return board
