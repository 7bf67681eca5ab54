"""Publications held back by WeChat's check wait in the moderation queue as open cases;
those held because WeChat could not be reached are screened again once it answers."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from community.errors import Conflict
from community.locking import lock_rows
from community.models import User
from community.services.content import PASS, REVIEW, RISKY, UNCHECKED, content_verdict
from moderation.models import Case, CaseStatus, ContentHold, Decision, TargetKind
from moderation.screened import screened_scene, screened_texts
from moderation.services.holds import content_hold, content_release

logger = logging.getLogger(__name__)

#: Holds re-screened per run of the ``moderation-recheck`` job (each costs WeChat calls).
RECHECK_BATCH = 50
#: A hold tried this recently is left to the next run (a parallel or repeated run skips it).
RECHECK_PAUSE = timedelta(minutes=4)


def screening_hold(
    *,
    community_id: str,
    target_kind: str,
    target_id: str,
    author_id: str,
    unchecked: bool,
    pending: dict | None = None,
) -> Case:
    """Hide the target (or hold its change, ``pending``) and put it in the queue (an open
    case without reports). A moderator restores it (shown) or hides it for good (stays
    hidden) with ``case_decide``; an unchecked one is also released by a passing re-check."""
    content_hold(
        community_id=community_id,
        target_kind=target_kind,
        target_id=target_id,
        why=ContentHold.Why.UNCHECKED if unchecked else ContentHold.Why.REVIEW,
        pending=pending,
    )
    try:
        with transaction.atomic():
            case, _created = Case.objects.get_or_create(
                community_id=community_id,
                target_kind=target_kind,
                target_id=target_id,
                status=CaseStatus.OPEN,
                defaults={"subject_id": author_id},
            )
    except IntegrityError:
        case = Case.objects.get(
            community_id=community_id,
            target_kind=target_kind,
            target_id=target_id,
            status=CaseStatus.OPEN,
        )
    return case


def _claim_due(now: datetime, batch: int) -> list[ContentHold]:
    """Unchecked holds whose case is still open, least recently tried first, stamped as tried
    now so that a parallel or repeated run leaves them alone (one short transaction that
    skips rows another run holds)."""
    open_case = Case.objects.filter(
        community_id=OuterRef("community_id"),
        target_kind=OuterRef("target_kind"),
        target_id=OuterRef("target_id"),
        status=CaseStatus.OPEN,
    )
    due = (
        ContentHold.objects.filter(why=ContentHold.Why.UNCHECKED, created_at__lte=now)
        .exclude(rechecked_at__gt=now - RECHECK_PAUSE)
        .filter(Exists(open_case))
        .order_by(F("rechecked_at").asc(nulls_first=True), "created_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    with transaction.atomic():
        claim = ContentHold.objects.filter(pk__in=list(due), why=ContentHold.Why.UNCHECKED)
        claim = claim.exclude(rechecked_at__gt=now - RECHECK_PAUSE)  # again, under the lock
        holds = list(lock_rows(claim, skip_locked=True))
        ContentHold.objects.filter(pk__in=[h.pk for h in holds]).update(rechecked_at=now)
    return holds


def screening_recheck_due(*, now: datetime | None = None, batch: int = RECHECK_BATCH) -> int:
    """Screen again the texts held because WeChat could not be reached (the
    ``moderation-recheck`` job). Per hold, with no transaction open during the call: pass →
    released (shown; a held change applied) and its case closed; review → stays held, now
    waiting for a moderator (why ``review``); risky → stays hidden, why ``risky``, its case
    left open for a moderator. Still unreachable → left for the next run, and the run stops
    (no point asking again at once). Safe to run twice: each hold is claimed with a stamp and
    its outcome is recorded only while it is still unchecked. Returns the holds decided."""
    from django.conf import settings

    if not settings.WECHAT_CONTENT_CHECK:
        return 0  # without the check nothing could be screened, so nothing is released
    now = now or timezone.now()
    decided = 0
    for hold in _claim_due(now, batch):
        case = (
            Case.objects.filter(
                community_id=hold.community_id,
                target_kind=hold.target_kind,
                target_id=hold.target_id,
                status=CaseStatus.OPEN,
            )
            .select_related("subject")
            .first()
        )
        texts = screened_texts(
            target_kind=hold.target_kind, target_id=hold.target_id, pending=hold.pending
        )
        author: User | None = case.subject if case else None
        if case is None or texts is None or author is None or not author.openid:
            continue
        verdict, _field = content_verdict(
            texts=texts, user=author, scene=screened_scene(hold.target_kind)
        )
        if verdict == UNCHECKED:
            break
        if _record(hold=hold, verdict=verdict, now=now):
            decided += 1
    return decided


@transaction.atomic
def _record(*, hold: ContentHold, verdict: str, now: datetime) -> bool:
    """Record a re-check's verdict on ``hold`` if it is still waiting unchecked."""
    current = lock_rows(ContentHold.objects.filter(pk=hold.pk)).first()
    if current is None or current.why != ContentHold.Why.UNCHECKED:
        return False  # a moderator decided meanwhile, or a parallel run recorded it
    if verdict == PASS:
        try:
            with transaction.atomic():
                content_release(
                    community_id=current.community_id,
                    target_kind=current.target_kind,
                    target_id=current.target_id,
                )
        except Conflict:
            # The passed change no longer fits (a role name taken meanwhile): a moderator
            # decides, as for a text WeChat wants reviewed.
            current.why = ContentHold.Why.REVIEW
            current.save(update_fields=["why"])
            return True
        cases = Case.objects.filter(
            target_kind=current.target_kind, target_id=current.target_id, status=CaseStatus.OPEN
        )
        if current.target_kind != TargetKind.NICKNAME:  # a nickname is released everywhere
            cases = cases.filter(community_id=current.community_id)
        cases.update(
            status=CaseStatus.DECIDED,
            decision=Decision.RESTORE,
            reason=_("WeChat's content check passed it on a re-check."),
            decided_at=now,
        )
        return True
    current.why = ContentHold.Why.REVIEW if verdict == REVIEW else ContentHold.Why.RISKY
    assert verdict in (REVIEW, RISKY)
    current.save(update_fields=["why"])
    return True
