"""What WeChat's check screened, per kind of held content: where its texts are read again
(the re-check of texts held while WeChat was unreachable) and, for a held *change* of an
object members already see, how the change is applied once released.

Two shapes of holding:

- a new publication (poll, event, option, comment, role, a ballot's or sign-up's text) is
  stored and hidden: its texts are the stored row's fields;
- a change of something already shown (a nickname, the community's, an event's or a role's
  texts) is not applied: the new texts wait in ``ContentHold.pending`` and the old ones stay
  shown until the hold is released.
"""

from __future__ import annotations

from django.apps import apps
from django.utils.module_loading import import_string

from moderation.models import TargetKind

# msgSecCheck scenes (as community.services.content): 1 profile, 2 comment, 3 forum.
_PROFILE, _COMMENT, _FORUM = 1, 2, 3

#: kind -> (model label, text fields re-screened, msgSecCheck scene)
STORED: dict[str, tuple[str, tuple[str, ...], int]] = {
    TargetKind.POLL: ("polls.Poll", ("title", "description"), _FORUM),
    TargetKind.EVENT: (
        "events.Event",
        ("title", "description", "location_name", "location_address", "fee_note"),
        _FORUM,
    ),
    TargetKind.TASK_COMMENT: ("roles.TaskComment", ("body",), _COMMENT),
    TargetKind.POLL_OPTION: ("polls.Option", ("label",), _FORUM),
    TargetKind.BALLOT_REASON: ("polls.Ballot", ("reason",), _COMMENT),
    TargetKind.REGISTRATION_NOTE: ("events.Registration", ("note",), _COMMENT),
    TargetKind.ROLE: ("roles.Role", ("name", "description"), _FORUM),
}

#: kind -> (model label of the changed object, msgSecCheck scene, the owning app's service
#: that applies a released change, or None when writing the fields is all there is to it)
CHANGES: dict[str, tuple[str, int, str | None]] = {
    TargetKind.NICKNAME: ("community.User", _PROFILE, None),
    TargetKind.COMMUNITY_TEXTS: (
        "community.Community",
        _FORUM,
        "community.services.communities.community_texts_release",
    ),
    TargetKind.EVENT_TEXTS: ("events.Event", _FORUM, "events.services.events.event_texts_release"),
    TargetKind.ROLE_TEXTS: ("roles.Role", _FORUM, "roles.services.roles.role_texts_release"),
}


def screened_texts(*, target_kind: str, target_id: str, pending: dict) -> dict[str, str] | None:
    """The texts WeChat is asked about again, by field; None when the target is gone."""
    if target_kind in CHANGES:
        return {name: str(value) for name, value in pending.items()}
    label, fields, _scene = STORED[target_kind]
    row = apps.get_model(label).objects.filter(pk=target_id).values(*fields).first()
    if row is None:
        return None
    texts = {name: row[name] or "" for name in fields}
    if target_kind == TargetKind.POLL:  # the options are part of the poll as published
        labels = apps.get_model("polls.Option").objects.filter(poll_id=target_id)
        texts["options"] = "\n".join(labels.order_by("position").values_list("label", flat=True))
    return texts


def screened_scene(target_kind: str) -> int:
    if target_kind in CHANGES:
        return CHANGES[target_kind][1]
    return STORED[target_kind][2]


def release_apply(*, target_kind: str, target_id: str, pending: dict) -> None:
    """What releasing a hold does besides showing the target (inside the releasing
    transaction): a released option joins its poll's order (votes may name it from now on);
    a released change is applied by its owning app as an unheld change would have been."""
    if target_kind == TargetKind.POLL_OPTION:
        from community.locking import lock_rows
        from polls.models import Option, Poll
        from polls.services.common import refresh_option_order

        poll_id = Option.objects.filter(pk=target_id).values_list("poll_id", flat=True).first()
        poll = lock_rows(Poll.objects.filter(pk=poll_id)).first() if poll_id else None
        if poll is not None:
            refresh_option_order(poll)
        return
    if target_kind not in CHANGES or not pending:
        return
    label, _scene, applier = CHANGES[target_kind]
    if applier is not None:
        # The owning app applies its change as its own edit service would have: the rules
        # version and its summary, an event's change-of-place notice, a role name's uniqueness.
        import_string(applier)(target_id=target_id, pending=dict(pending))
        return
    apps.get_model(label).objects.filter(pk=target_id).update(**pending)
