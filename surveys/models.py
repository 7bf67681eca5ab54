"""Survey data: definitions (survey, pages, questions, choices), responses and exports.

Every table carries ``community_id`` (copied down from the survey on save) and every unique
constraint includes it, so the schema can be distributed by community.

The question engine (``surveys.engine``) is the truth for what an answer means; these models
only store its configuration (columns) and its cleaned output (``Response.answers`` holds
``CleanResult.to_json()``). ``Answer`` rows mirror a *submitted* response for reporting.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.exports import (  # noqa: F401  (ExportFormat/ExportStatus re-exported)
    ExportBase,
    ExportFormat,
    ExportStatus,
    export_storage,
)
from community.hashing import sha256_hex
from community.ids import PublicIdField
from community.models import Community
from surveys.engine import QuestionType


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", _("Closed")


class SurveyState(models.TextChoices):
    """What a member sees: derived from the status, the clock and the cap when read."""

    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Not open yet")
    OPEN = "open", _("Open")
    FULL = "full", _("Full")
    CLOSED = "closed", _("Closed")


class QuizResults(models.TextChoices):
    """When a quiz member sees the correct answers, the explanations and the leaderboard."""

    AFTER_SUBMIT = "after_submit", _("After submitting")
    AFTER_CLOSE = "after_close", _("After the quiz closes")


class Survey(models.Model):
    """A feedback survey of one community.

    Authored in the admin (draft), then published once its definition passes
    ``check_definition``. It accepts answers while published, after ``opens_at`` and before
    ``closes_at`` (computed from the clock when read, never by a worker), and until
    ``submitted_count`` reaches ``response_cap``. ``submitted_count`` is only changed while
    holding the row lock (``SELECT ... FOR UPDATE``), so the cap holds under concurrency.
    ``version`` increases whenever the definition (pages, questions, choices) changes through
    the authoring services; it keys the cached engine definition and each response records
    the version it answered. After the first submitted response the definition can only grow
    or be reworded (see ``surveys.services.authoring``); the check constraint
    ``survey_cap_not_exceeded`` keeps the cap at or above the submitted count.
    """

    id = PublicIdField()
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="surveys", verbose_name=_("community")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    status = models.CharField(
        _("status"), max_length=16, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    response_cap = models.PositiveIntegerField(
        _("response cap"),
        null=True,
        blank=True,
        help_text=_("Maximum number of submitted responses; empty means no limit."),
    )
    allow_multiple_responses = models.BooleanField(
        _("allow several responses per member"), default=False
    )
    allow_edit_after_submit = models.BooleanField(
        _("allow editing after submitting"),
        default=False,
        help_text=_("Members may change their submitted answers until the survey closes."),
    )
    anonymous = models.BooleanField(
        _("anonymous"),
        default=False,
        help_text=_("Responses store no link to the member who gave them."),
    )
    publish_results = models.BooleanField(
        _("publish results"),
        default=False,
        help_text=_("Members may see the summary results."),
    )
    min_group_size = models.PositiveSmallIntegerField(
        _("smallest group shown"),
        default=3,
        help_text=_(
            "Reports hide a question answered by fewer members; anonymous responses are mixed "
            "in batches of at least this many."
        ),
    )
    thank_you_text = models.TextField(_("thank-you text"), blank=True, default="")
    quiz_mode = models.BooleanField(
        _("quiz mode"),
        default=False,
        help_text=_(
            "Questions have correct answers and points; members get a score and a leaderboard. "
            "Named surveys only, one response per member, no editing after submitting."
        ),
    )
    quiz_time_limit = models.PositiveIntegerField(
        _("quiz time limit (seconds)"),
        null=True,
        blank=True,
        help_text=_(
            "Optional: seconds from starting the quiz to submitting it; late submissions are "
            "refused."
        ),
    )
    quiz_results = models.CharField(
        _("quiz results shown"),
        max_length=16,
        choices=QuizResults.choices,
        default=QuizResults.AFTER_SUBMIT,
        help_text=_("When members see the correct answers, explanations and leaderboard."),
    )
    submitted_count = models.PositiveIntegerField(_("submitted responses"), default=0)
    box_waiting = models.PositiveIntegerField(
        _("responses waiting to be mixed"),
        default=0,
        editable=False,
        help_text=_(
            "Anonymous surveys: how many sealed responses wait in the box. Kept by the "
            "submission's guarded count and by the mixing step, under the survey row lock, so "
            "a submission knows without another query whether it completed a batch."
        ),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in SurveyStatus]),
                name="survey_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(opens_at__lt=F("closes_at")),
                name="survey_opens_before_closes",
            ),
            models.CheckConstraint(
                condition=Q(response_cap__isnull=True) | Q(submitted_count__lte=F("response_cap")),
                name="survey_cap_not_exceeded",
            ),
            models.CheckConstraint(
                condition=Q(min_group_size__gte=2), name="survey_min_group_size_at_least_2"
            ),
            models.CheckConstraint(
                condition=Q(quiz_mode=False)
                | (
                    Q(anonymous=False)
                    & Q(allow_multiple_responses=False)
                    & Q(allow_edit_after_submit=False)
                ),
                name="survey_quiz_named_single_final",
            ),
            models.CheckConstraint(
                condition=Q(quiz_time_limit__isnull=True) | Q(quiz_time_limit__gte=10),
                name="survey_quiz_time_limit_min",
            ),
        ]
        indexes = [models.Index(fields=["community", "status", "closes_at"])]

    def __str__(self) -> str:
        return self.title

    def state(self, now=None) -> SurveyState:
        """Draft, scheduled, open, full or closed at ``now``."""
        now = now or timezone.now()
        if self.status == SurveyStatus.DRAFT:
            return SurveyState.DRAFT
        if self.status == SurveyStatus.CLOSED or (self.closes_at and now >= self.closes_at):
            return SurveyState.CLOSED
        if self.opens_at and now < self.opens_at:
            return SurveyState.SCHEDULED
        if self.response_cap is not None and self.submitted_count >= self.response_cap:
            return SurveyState.FULL
        return SurveyState.OPEN


QUESTION_TYPE_LABELS = {
    QuestionType.SINGLE_CHOICE: _("Single choice"),
    QuestionType.MULTIPLE_CHOICE: _("Multiple choice"),
    QuestionType.DROPDOWN: _("Dropdown"),
    QuestionType.SHORT_TEXT: _("Short text"),
    QuestionType.LONG_TEXT: _("Long text"),
    QuestionType.NUMBER: _("Number"),
    QuestionType.DATE: _("Date"),
    QuestionType.RATING: _("Rating"),
    QuestionType.NPS: _("NPS (0-10)"),
    QuestionType.LIKERT: _("Likert scale"),
    QuestionType.MATRIX: _("Matrix"),
    QuestionType.RANKING: _("Ranking"),
}

#: How a display-condition operator reads in the back office (the stored value stays the code).
OPERATOR_LABELS = {
    "equals": _("equals"),
    "not_equals": _("does not equal"),
    "contains": _("contains"),
    "greater": _("is greater than"),
    "less": _("is less than"),
}


class _SurveyPart(models.Model):
    """Common base: a row of a survey's definition, with ``community_id`` copied down."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    order = models.PositiveIntegerField(_("order"), default=0, db_index=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self.community_id:
            self.community_id = self._survey_community_id()
        super().save(*args, **kwargs)

    def _survey_community_id(self) -> str:
        return self.survey.community_id


class Page(_SurveyPart):
    """A page (section) of a survey. Shown only when its ``condition`` (engine ``Condition``
    as JSON: ``{"match": "all"|"any", "rules": [{"question_id", "operator", "value"}]}``)
    holds over answers to questions of earlier pages."""

    id = PublicIdField()
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="pages")
    title = models.CharField(_("title"), max_length=200, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    condition = models.JSONField(_("display condition"), null=True, blank=True)

    class Meta:
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        ordering = ["order"]
        indexes = [models.Index(fields=["community", "survey", "order"])]

    def __str__(self) -> str:
        return self.title or str(_("Page %(number)s") % {"number": self.order})


class Question(_SurveyPart):
    """One question with the engine's configuration as columns (see
    ``surveys.engine.Question`` for which fields each type uses). ``condition`` is the
    display condition as JSON, like ``Page.condition``; it may only refer to earlier
    questions (checked by ``check_definition`` when publishing)."""

    id = PublicIdField()
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    page = models.ForeignKey(
        Page,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="questions",
        verbose_name=_("page"),
    )
    type = models.CharField(
        _("type"),
        max_length=24,
        choices=[(t.value, QUESTION_TYPE_LABELS[t]) for t in QuestionType],
    )
    title = models.CharField(_("question"), max_length=500)
    description = models.TextField(_("help text"), blank=True, default="")
    required = models.BooleanField(_("required"), default=False)
    min_value = models.DecimalField(
        _("minimum value"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("maximum value"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    integer_only = models.BooleanField(_("whole numbers only"), default=False)
    min_length = models.PositiveIntegerField(_("minimum length"), null=True, blank=True)
    max_length = models.PositiveIntegerField(_("maximum length"), null=True, blank=True)
    pattern = models.CharField(_("pattern (regular expression)"), max_length=500, blank=True)
    pattern_message = models.CharField(_("pattern error message"), max_length=200, blank=True)
    min_selections = models.PositiveIntegerField(_("minimum selections"), null=True, blank=True)
    max_selections = models.PositiveIntegerField(_("maximum selections"), null=True, blank=True)
    scale_min = models.IntegerField(_("scale minimum"), null=True, blank=True)
    scale_max = models.IntegerField(_("scale maximum"), null=True, blank=True)
    scale_labels = models.JSONField(_("scale labels"), default=list, blank=True)
    shuffle_choices = models.BooleanField(_("shuffle choices per respondent"), default=False)
    condition = models.JSONField(_("display condition"), null=True, blank=True)
    # Quiz mode: never part of the engine definition, so no member-facing endpoint can send
    # them by accident (``surveys.quiz`` reads them into the answer key).
    quiz_points = models.PositiveSmallIntegerField(
        _("points"), default=0, help_text=_("Quiz mode: points for a correct answer.")
    )
    quiz_answer = models.TextField(
        _("correct answer"),
        blank=True,
        default="",
        help_text=_(
            "Quiz mode, number and short text questions: the accepted answers, one per line "
            "(text is compared ignoring case and spaces at the ends). Choice questions mark "
            "their correct choices instead."
        ),
    )
    quiz_explanation = models.TextField(
        _("explanation"),
        blank=True,
        default="",
        help_text=_("Quiz mode: shown with the correct answer once results are due."),
    )

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["order"]
        indexes = [models.Index(fields=["community", "survey", "order"])]

    def __str__(self) -> str:
        return self.title


class Choice(_SurveyPart):
    """An option of a choice/ranking question, or (``is_row``) a row of a matrix question.
    ``is_other`` adds a free-text field ("Other: ____")."""

    id = PublicIdField()
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="choices")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    label = models.CharField(_("label"), max_length=200)
    is_other = models.BooleanField(_("other (with text)"), default=False)
    is_row = models.BooleanField(_("matrix row"), default=False)
    is_correct = models.BooleanField(_("correct (quiz)"), default=False)

    class Meta:
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        ordering = ["order"]
        indexes = [models.Index(fields=["community", "survey", "question", "order"])]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(is_other=True) & Q(is_row=True)), name="choice_row_not_other"
            )
        ]

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs):
        if not self.survey_id:
            self.survey_id = self.question.survey_id
        super().save(*args, **kwargs)


class ResponseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")


def new_edit_token() -> tuple[str, str]:
    """A random token for an anonymous response and the SHA-256 hash stored for it."""
    raw = secrets.token_urlsafe(24)
    return raw, hash_edit_token(raw)


def hash_edit_token(raw: str) -> str:
    """The stored form of an anonymous response's edit token."""
    return sha256_hex(raw)


class Response(models.Model):
    """One respondent's answers to a survey: a server-side draft or a submitted response.

    ``answers`` is the engine's cleaned JSON (``CleanResult.to_json()``). For anonymous
    surveys ``respondent`` is NULL and ``respondent_key`` empty; the member resumes or edits
    the response with a random token only their client keeps (we store its SHA-256 in
    ``edit_token_hash``), like a secret ballot receipt. ``Participation`` records *that* the
    member took part, without pointing at the response.
    """

    id = PublicIdField()
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # Indexed by the unique constraint ``response_scope``, which leads with it.
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="responses", db_index=False
    )
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_responses",
        verbose_name=_("respondent"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ResponseStatus.choices, default=ResponseStatus.DRAFT
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    respondent_key = models.CharField(max_length=64, blank=True, default="")
    definition_version = models.PositiveIntegerField(
        _("definition version"),
        null=True,
        blank=True,
        help_text=_("The survey's definition version these answers were given to."),
    )
    # NULL (not "") when absent, so the partial unique constraint ignores named responses.
    edit_token_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        constraints = [
            # What the answer rows' one composite foreign key points at (``Answer``); it
            # serves the queries and checks by survey as well.
            models.UniqueConstraint(fields=["survey", "id", "community"], name="response_scope"),
            models.UniqueConstraint(
                fields=["community", "survey", "edit_token_hash"],
                condition=Q(edit_token_hash__isnull=False),
                name="response_edit_token_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ResponseStatus]),
                name="response_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="response_submitted_has_time",
            ),
            models.CheckConstraint(
                condition=Q(respondent__isnull=True) | Q(edit_token_hash__isnull=True),
                name="response_token_only_when_anonymous",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "survey", "status", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return self.id


class SealedResponse(models.Model):
    """An anonymous survey's submitted (or edited) response waiting in the survey's box,
    encrypted (``community.sealing``) until the mixing step opens a batch of at least
    ``min_group_size`` of them, shuffles it and writes the plaintext ``Response`` rows.

    Written in the member's transaction next to their participation, so nothing here may
    say anything: the id is random, there is no timestamp, the sealed bytes are padded to a
    fixed bucket, and ``lookup`` is the SHA-256 of ``"box:" + edit token`` -- a different hash
    from the ``edit_token_hash`` of the mixed response, so without the token nobody can tell
    which mixed response a waiting one became. The row is deleted when mixed.
    """

    id = PublicIdField()
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    lookup = models.CharField(max_length=64)
    sealed = models.BinaryField()

    class Meta:
        verbose_name = _("sealed response")
        verbose_name_plural = _("sealed responses")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "survey", "lookup"], name="sealed_response_lookup_unique"
            )
        ]

    def __str__(self) -> str:
        return self.id


def box_lookup(raw_token: str) -> str:
    """The ``SealedResponse.lookup`` of an edit token (unlinkable to ``hash_edit_token``)."""
    return sha256_hex("box:" + raw_token)


class SealedDraft(models.Model):
    """The server-side draft of a response to an *anonymous* survey, sealed.

    A draft is saved by the member's own transaction, next to their participation, so its row
    must say nothing: the answers, the definition version and the time it was saved are
    sealed by ``community.sealing`` under a key derived from ``BALLOT_KEY`` and the survey id
    (the row's ``lookup`` is the associated data, so sealed bytes moved to another row do not
    open), padded to a fixed bucket, under a random id, with no timestamp column. ``lookup``
    is ``draft_lookup(edit token)``: SHA-256 of ``"draft:" + SHA-256(token)``, unlike the
    ``edit_token_hash`` and ``box_lookup`` of the same token. The member resumes it on any
    device with their token; submitting deletes it."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    lookup = models.CharField(max_length=64)
    sealed = models.BinaryField()

    class Meta:
        verbose_name = _("sealed draft")
        verbose_name_plural = _("sealed drafts")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "survey", "lookup"], name="sealed_draft_lookup_unique"
            )
        ]

    def __str__(self) -> str:
        return self.id


def draft_lookup(raw_token: str) -> str:
    """The ``SealedDraft.lookup`` of an edit token (computable from its stored hash too, which
    let the migration seal the drafts saved before)."""
    return sha256_hex("draft:" + hash_edit_token(raw_token))


class Participation(models.Model):
    """That a member took part in a survey: their status for "my surveys" and the
    one-response-per-member rule (unique per community, survey and user).

    For named surveys it points at the member's current draft and latest submitted response.
    For anonymous surveys (``anonymous`` copied from the survey) both links stay NULL --
    enforced by a check constraint -- so nothing connects the member to their answers.
    """

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="survey_participations"
    )
    anonymous = models.BooleanField(default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ResponseStatus.choices, default=ResponseStatus.DRAFT
    )
    submissions = models.PositiveIntegerField(_("submissions"), default=0)
    draft = models.ForeignKey(
        Response, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted = models.ForeignKey(
        Response, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "survey", "user"], name="participation_one_per_member"
            ),
            models.CheckConstraint(
                condition=Q(anonymous=False) | (Q(draft__isnull=True) & Q(submitted__isnull=True)),
                name="participation_anonymous_unlinked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.survey_id}"


class Answer(models.Model):
    """One reportable fact of a submitted response, for SQL aggregation in reports.

    choice questions: one row per selected choice (``text`` = the "other" text); ranking: one
    row per ranked choice with ``number`` = rank (1 = best); matrix: one row per answered
    row (``row``) with ``number`` = scale point; number/rating/NPS/Likert: ``number``; text:
    ``text``; date: ``date``. Rewritten whenever the response is (re)submitted.

    A submit writes about thirty of these at once (a mix hundreds), and PostgreSQL checks a
    foreign key row by row, share-locking the row it points at. So ``community``, ``survey``
    and ``response`` are no database constraints: a trigger checks each INSERT or UPDATE
    statement on answers once, for all its rows -- every row names a response of its own
    survey and community --, and another, deferred to COMMIT, refuses to delete or re-key a
    response whose answer rows stay (migration ``0010``, PostgreSQL only, which replaced the
    composite key of ``0008``; both raise as ``answer_response_scope_fk``). Django still
    cascades deletes through the three fields.

    ``question``, ``choice`` and ``row`` are no database constraints either: their checks took
    a shared lock on the question and choice rows every submit of the survey answers (about
    0.4 ms of PostgreSQL per submit, measured with pgbench). What they guaranteed is kept
    otherwise. Deleting what was answered is refused: by the authoring services, by Django's
    RESTRICT, and below the ORM by a ``BEFORE DELETE`` trigger on questions and choices
    (migration ``0009``, PostgreSQL; it costs a deletion, not a submit). And a submission
    validated against a definition that lost a question or choice before it was counted is
    refused by the guarded count, which checks the survey's ``version`` under the survey row
    lock (``surveys.response_store``).

    Indexes (``tests/community/test_indexes.py``): the reports' ``(survey, question,
    choice)``; ``response`` (a response's rows, rewritten on edit); ``question`` and the
    partial ``choice`` / ``row`` ones for the RESTRICT look-ups (Django's and the trigger's)
    when a question or choice is deleted (most rows have no ``row``, many no ``choice``: those
    rows add nothing to them).
    """

    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answer_rows", db_constraint=False
    )
    # RESTRICT, not CASCADE: a question or choice that respondents answered cannot be deleted
    # on its own (its answers would silently vanish); deleting the whole survey or response
    # still takes its answers with it.
    question = models.ForeignKey(
        Question, on_delete=models.RESTRICT, related_name="+", db_constraint=False
    )
    choice = models.ForeignKey(
        Choice,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    row = models.ForeignKey(
        Choice,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    number = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    text = models.TextField(blank=True, default="")
    date = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [
            models.Index(fields=["survey", "question", "choice"], name="answer_report"),
            models.Index(
                fields=["choice"], condition=Q(choice__isnull=False), name="answer_choice"
            ),
            models.Index(fields=["row"], condition=Q(row__isnull=False), name="answer_row"),
        ]

    def __str__(self) -> str:
        return f"{self.response_id}/{self.question_id}"


class QuizEntry(models.Model):
    """A member's go at a quiz (a survey in quiz mode): when they started it (the server's
    clock: the time limit counts from here), whether their name shows on the leaderboard,
    and -- written in the submission's transaction -- their score and submission time.

    The leaderboard is one ordered read of the partial index ``quiz_entry_board`` (score
    descending, earlier submission first); the selector ``quiz_qualifiers`` reads the same
    index for "at least N points". Identified by membership, like the rest of a community's
    objects, so a draw can take the ids as they are."""

    id = PublicIdField()
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="quiz_entries")
    membership = models.ForeignKey(
        "community.Membership",
        on_delete=models.CASCADE,
        related_name="quiz_entries",
        verbose_name=_("member"),
    )
    started_at = models.DateTimeField(_("started at"))
    show_name = models.BooleanField(_("name shown on the leaderboard"), default=False)
    score = models.PositiveIntegerField(_("score"), null=True, blank=True)
    max_score = models.PositiveIntegerField(_("maximum score"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("quiz entry")
        verbose_name_plural = _("quiz entries")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "survey", "membership"], name="quiz_entry_one_per_member"
            ),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True) | Q(score__isnull=False),
                name="quiz_entry_submitted_has_score",
            ),
        ]
        indexes = [
            models.Index(
                F("community"),
                F("survey"),
                F("score").desc(),
                F("submitted_at"),
                F("id"),
                condition=Q(submitted_at__isnull=False),
                name="quiz_entry_board",
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} @ {self.survey_id}"


class Export(ExportBase):
    """A CSV or XLSX file of a survey's submitted responses, written by a Celery task.

    ``rows_done``/``rows_total`` show progress in the admin. The file has a random name in a
    private storage (``EXPORT_ROOT``) and leaves the server only through the admin's download
    view, which checks the moderator may see the survey. ``attempts`` counts how often the
    export was queued and fences a worker that lost its lease: only the worker of the latest
    attempt may finish it. ``heartbeat_at`` is the last sign of life (queued, claimed,
    progress); the sweep re-queues an export silent past its lease and deletes files past the
    retention period (the export becomes ``expired``). The machinery is shared by every kind
    of export (``community.exports``)."""

    task_name = "surveys.tasks.run_export"

    id = PublicIdField()
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="exports", verbose_name=_("survey")
    )
    file = models.FileField(
        _("file"), upload_to="survey-exports/", storage=export_storage, blank=True
    )

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="export_sweep_idx")]

    def __str__(self) -> str:
        return f"{self.survey_id} {self.format} {self.status}"
