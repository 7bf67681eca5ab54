"""Input and output serializers of the surveys API (separate, rarely shared)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from community.text import normalize_text
from surveys.engine import Operator, QuestionType
from surveys.models import QuizResults, SurveyState
from surveys.openapi import SurveyEnumField

MY_STATUS_CHOICES = [
    ("not_started", "not started"),
    ("draft", "draft saved"),
    ("submitted", "submitted"),
]


# --- input ----------------------------------------------------------------------------------
@extend_schema_field(
    {"type": "object", "additionalProperties": {}, "description": "Question id -> answer."}
)
class AnswersInField(serializers.JSONField):
    """A JSON object of answers. Plain JSON (checked by the engine, which names the bad
    question) rather than ``DictField(child=...)``, whose child binding is not thread-safe.

    Free text (text answers and ``other_text``) is put in the published normal form of
    ``community.text`` here, at the boundary, so the engine (pure Python) validates what will
    be stored: text that is only invisible characters becomes empty, i.e. no answer, which a
    required question refuses."""

    def to_internal_value(self, data):
        answers = super().to_internal_value(data)
        if not isinstance(answers, dict):
            return answers  # the engine names the problem
        return {key: _normalized_answer(value) for key, value in answers.items()}


def _normalized_answer(answer):
    if isinstance(answer, str):
        return normalize_text(answer, multiline=True)
    if isinstance(answer, dict) and isinstance(answer.get("other_text"), str):
        return {**answer, "other_text": normalize_text(answer["other_text"])}
    return answer


class AnswersIn(serializers.Serializer):
    """``answers``: question id -> answer, in the shapes listed in the operation description."""

    answers = AnswersInField(help_text=_("Question id -> answer (see the answer shapes)."))


class SubmitIn(serializers.Serializer):
    """Omit ``answers`` (or send ``null``) to submit the stored draft."""

    answers = AnswersInField(
        required=False,
        allow_null=True,
        help_text=_("Question id -> answer. Omitted or null: submit the stored draft."),
    )


# --- definition output ----------------------------------------------------------------------
class RuleOut(serializers.Serializer):
    question_id = serializers.CharField(help_text=_("An earlier question."))
    operator = SurveyEnumField(
        component_name="ConditionOperatorEnum", choices=[o.value for o in Operator]
    )
    value = serializers.JSONField(
        help_text=_("A choice id (choice questions), text, number or YYYY-MM-DD date.")
    )


class ConditionOut(serializers.Serializer):
    """Show the page/question only when ``all`` (or ``any``) of the rules hold. A rule about
    a hidden, unanswered or invalid answer is false (even ``not_equals``)."""

    match = SurveyEnumField(component_name="ConditionMatchEnum", choices=["all", "any"])
    rules = RuleOut(many=True)


class ChoiceOut(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField()
    is_other = serializers.BooleanField(help_text=_("Comes with a free-text field."))


class RowOut(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField()


class PageOut(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    condition = ConditionOut(allow_null=True)


class QuestionOut(serializers.Serializer):
    """One question; the fields a type does not use are null (or empty lists)."""

    id = serializers.CharField()
    page_id = serializers.CharField(allow_null=True)
    type = SurveyEnumField(
        component_name="QuestionTypeEnum", choices=[t.value for t in QuestionType]
    )
    title = serializers.CharField()
    description = serializers.CharField()
    required = serializers.BooleanField()
    choices = ChoiceOut(
        many=True, help_text=_("Choice and ranking questions, in the order to show to me.")
    )
    rows = RowOut(many=True, help_text=_("Matrix rows."))
    min_value = serializers.DecimalField(
        max_digits=30, decimal_places=10, allow_null=True, coerce_to_string=True
    )
    max_value = serializers.DecimalField(
        max_digits=30, decimal_places=10, allow_null=True, coerce_to_string=True
    )
    integer_only = serializers.BooleanField()
    min_length = serializers.IntegerField(allow_null=True)
    max_length = serializers.IntegerField(
        allow_null=True, help_text=_("Text questions: the effective limit (default 200 / 5000).")
    )
    pattern = serializers.CharField(allow_null=True, help_text=_("Short text: full-match regex."))
    pattern_message = serializers.CharField(allow_null=True)
    min_selections = serializers.IntegerField(allow_null=True)
    max_selections = serializers.IntegerField(allow_null=True)
    scale_min = serializers.IntegerField(
        allow_null=True, help_text=_("Rating, NPS, Likert and matrix: lowest point.")
    )
    scale_max = serializers.IntegerField(allow_null=True)
    scale_labels = serializers.ListField(child=serializers.CharField())
    condition = ConditionOut(allow_null=True)


class SurveyCardOut(serializers.Serializer):
    """What a survey card in the mini-program shows."""

    id = serializers.CharField()
    community_id = serializers.CharField(help_text=_("The community (WeChat group) it belongs to."))
    title = serializers.CharField()
    description = serializers.CharField()
    state = SurveyEnumField(component_name="SurveyStateEnum", choices=SurveyState.choices)
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)
    anonymous = serializers.BooleanField()
    allow_multiple_responses = serializers.BooleanField()
    allow_edit_after_submit = serializers.BooleanField()
    publish_results = serializers.BooleanField()
    quiz_mode = serializers.BooleanField(
        help_text=_("A quiz: scored answers, a leaderboard, maybe a time limit (see `quiz`).")
    )
    my_status = SurveyEnumField(component_name="SurveyMyStatusEnum", choices=MY_STATUS_CHOICES)


class QuizSettingsOut(serializers.Serializer):
    """How a quiz is played. The correct answers are never part of the survey detail."""

    time_limit_seconds = serializers.IntegerField(
        allow_null=True,
        help_text=_("Seconds from starting (startQuiz) to submitting; null: no limit."),
    )
    results = SurveyEnumField(
        component_name="QuizResultsEnum",
        choices=QuizResults.choices,
        help_text=_("When the correct answers, explanations and leaderboard are shown."),
    )
    max_score = serializers.IntegerField(help_text=_("Points for answering everything right."))
    question_points = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("Question id -> points for a correct answer.")
    )


class SurveyDetailOut(SurveyCardOut):
    thank_you_text = serializers.CharField()
    pages = PageOut(many=True)
    questions = QuestionOut(many=True)
    quiz = QuizSettingsOut(allow_null=True, help_text=_("Quiz mode only; null otherwise."))


# --- responses ------------------------------------------------------------------------------
@extend_schema_field(OpenApiTypes.OBJECT)
class AnswersField(serializers.DictField):
    pass


class DraftOut(serializers.Serializer):
    answers = AnswersField(help_text=_("The saved (cleaned) answers; {} when there is no draft."))
    saved_at = serializers.DateTimeField(allow_null=True)
    my_status = SurveyEnumField(component_name="SurveyMyStatusEnum", choices=MY_STATUS_CHOICES)
    visible_question_ids = serializers.ListField(
        child=serializers.CharField(), help_text=_("Questions shown for these answers.")
    )
    response_token = serializers.CharField(
        allow_null=True,
        help_text=(
            _(
                "Anonymous surveys only, and only when a new response was just created: keep it "
                "and send it as X-Response-Token to resume, submit or edit. It is shown once."
            )
        ),
    )


class SubmittedOut(serializers.Serializer):
    response_id = serializers.CharField(allow_null=True, help_text=_("Null for anonymous surveys."))
    submitted_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    answers = AnswersField()
    thank_you_text = serializers.CharField()
    can_edit = serializers.BooleanField()
    response_token = serializers.CharField(allow_null=True, help_text=_("As in the draft."))


# --- results --------------------------------------------------------------------------------
class ResultChoiceOut(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    percent = serializers.FloatField(help_text=_("Of the members who answered the question."))
    mean_rank = serializers.FloatField(required=False, allow_null=True)


class ResultPointOut(serializers.Serializer):
    value = serializers.FloatField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    percent = serializers.FloatField()


class NpsOut(serializers.Serializer):
    score = serializers.FloatField(allow_null=True)
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    promoters_percent = serializers.FloatField()
    passives_percent = serializers.FloatField()
    detractors_percent = serializers.FloatField()


class MatrixRowOut(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField()
    counts = serializers.ListField(child=serializers.IntegerField())
    percents = serializers.ListField(child=serializers.FloatField())
    mean = serializers.FloatField(allow_null=True)


class QuestionResultOut(serializers.Serializer):
    """Summary of one question; text answers are never published."""

    id = serializers.CharField()
    title = serializers.CharField()
    type = SurveyEnumField(
        component_name="QuestionTypeEnum", choices=[t.value for t in QuestionType]
    )
    kind = SurveyEnumField(
        component_name="QuestionResultKindEnum",
        choices=["choices", "ranking", "scale", "nps", "matrix", "text", "date"],
    )
    answered = serializers.IntegerField()
    hidden = serializers.BooleanField(
        help_text=_(
            "Answered by fewer members than the survey's smallest group shown: no "
            "breakdown (choices, distribution, mean... are empty)."
        )
    )
    choices = ResultChoiceOut(many=True)
    distribution = ResultPointOut(many=True)
    mean = serializers.FloatField(allow_null=True)
    median = serializers.FloatField(allow_null=True)
    nps = NpsOut(allow_null=True)
    scale = serializers.ListField(child=serializers.CharField())
    matrix = MatrixRowOut(many=True)


class ResultsOut(serializers.Serializer):
    participant_count = serializers.IntegerField(
        help_text=_("How many members took part (submitted responses counted).")
    )
    questions = QuestionResultOut(many=True)


# --- quizzes --------------------------------------------------------------------------------
class QuizStartIn(serializers.Serializer):
    show_name = serializers.BooleanField(
        required=False,
        help_text=_(
            'Show my name on the leaderboard (else "anonymous player"). Omitted: unchanged '
            "(not shown when starting)."
        ),
    )


class QuizNameIn(serializers.Serializer):
    show_name = serializers.BooleanField(
        help_text=_('Show my name on the leaderboard (else "anonymous player").')
    )


class QuizEntryOut(serializers.Serializer):
    """My go at a quiz."""

    started_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When I started (server clock); null: not started.")
    )
    deadline = serializers.DateTimeField(
        allow_null=True,
        help_text=_("Submit before this; null without a time limit or before starting."),
    )
    time_limit_seconds = serializers.IntegerField(
        allow_null=True, help_text=_("The quiz's time limit in seconds; null: no limit.")
    )
    show_name = serializers.BooleanField(
        help_text=_('Whether the leaderboard shows my name (else "anonymous player").')
    )
    submitted_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When I submitted; null: not yet.")
    )
    results_due = serializers.BooleanField(
        help_text=_("Whether I may see the results, the correct answers and the leaderboard.")
    )
    score = serializers.IntegerField(allow_null=True, help_text=_("Null until results are due."))
    max_score = serializers.IntegerField(help_text=_("Points for answering everything right."))
    rank = serializers.IntegerField(
        allow_null=True, help_text=_("My place on the leaderboard; null until results are due.")
    )


class QuizQuestionResultOut(serializers.Serializer):
    question_id = serializers.CharField(help_text=_("The question."))
    title = serializers.CharField(help_text=_("The question's text."))
    type = SurveyEnumField(
        component_name="QuestionTypeEnum",
        choices=[t.value for t in QuestionType],
        help_text=_("The question's type."),
    )
    points = serializers.IntegerField(help_text=_("Points for a correct answer; 0: not scored."))
    earned = serializers.IntegerField(help_text=_("Points I earned (0 when I did not submit)."))
    is_correct = serializers.BooleanField(allow_null=True, help_text=_("Null: not scored."))
    my_answer = serializers.JSONField(allow_null=True, help_text=_("As I submitted it."))
    correct_choice_ids = serializers.ListField(
        child=serializers.CharField(), help_text=_("Choice questions: the correct choices.")
    )
    accepted_answers = serializers.ListField(
        child=serializers.CharField(), help_text=_("Number and short text: accepted answers.")
    )
    explanation = serializers.CharField(
        help_text=_("Why the answer is right (plain text); empty: none.")
    )


class QuizResultOut(serializers.Serializer):
    score = serializers.IntegerField(allow_null=True, help_text=_("Null when I did not submit."))
    max_score = serializers.IntegerField(help_text=_("Points for answering everything right."))
    rank = serializers.IntegerField(
        allow_null=True, help_text=_("My place on the leaderboard; null when I did not submit.")
    )
    submitted_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When I submitted; null: not yet.")
    )
    questions = QuizQuestionResultOut(many=True, help_text=_("Every question, in order."))


class QuizLeaderboardRowOut(serializers.Serializer):
    rank = serializers.IntegerField(
        help_text=_("1 = best; equal scores: earlier submission first.")
    )
    name = serializers.CharField(
        help_text=_('The member\'s nickname, or "anonymous player" unless they chose to show it.')
    )
    score = serializers.IntegerField(help_text=_("Points scored."))
    submitted_at = serializers.DateTimeField(help_text=_("When the quiz was submitted."))
    is_me = serializers.BooleanField(help_text=_("This row is mine."))
