"""Surveys API for the mini-program: list, detail, draft, submit, edit, results."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from community.authz import Action, visible_membership
from community.bound_serializers import represent, validated
from community.errors import Forbidden, NotFound
from community.pagination import cursor_pagination
from community.throttling import WriteThrottle
from community.timezones import community_time
from surveys import services
from surveys.definition import definition_for, extra_fields
from surveys.engine import shuffled_choices, visible_question_ids
from surveys.models import ResponseStatus, Survey
from surveys.quiz import answer_key_for
from surveys.reports import survey_report
from surveys.selectors import (
    my_status,
    open_surveys,
    open_surveys_of_user,
    quiz_entry_of,
    quiz_leaderboard_for,
    quiz_my_result,
    quiz_my_status,
    quiz_rank,
    quiz_require_results,
    survey_for_member,
)
from surveys.serializers import (
    AnswersIn,
    DraftOut,
    QuizEntryOut,
    QuizLeaderboardRowOut,
    QuizNameIn,
    QuizResultOut,
    QuizStartIn,
    ResultsOut,
    SubmitIn,
    SubmittedOut,
    SurveyCardOut,
    SurveyDetailOut,
)

TAGS = ["surveys"]

ANSWER_SHAPES = gettext_lazy("""

**Answer shapes** (`answers` maps question id -> answer; `null` or a missing key = no answer):

| type | answer |
|---|---|
| single_choice, dropdown | `{"choice": "<choice id>", "other_text": "..."}` (`other_text` only for an `is_other` choice) |
| multiple_choice | `{"choices": ["<id>", ...], "other_text": "..."}`, `min_selections`..`max_selections` |
| short_text, long_text | `"text"` (stripped; `min_length`..`max_length`; short text: `pattern` full match) |
| number | `12`, `12.5` or `"12.5"` (`integer_only`, `min_value`..`max_value`); answered back as a JSON number |
| date | `"YYYY-MM-DD"` |
| rating | integer `scale_min`..`scale_max` (default 1..5) |
| nps | integer 0..10 |
| likert | integer 1..len(`scale_labels`) |
| matrix | `{"<row id>": <1..len(scale_labels)>, ...}` |
| ranking | `["<choice id>", ...]` best first |

Answers to questions hidden by display logic are dropped in drafts and refused on submit.
Answer errors name the question: `attr` is `answers.<question id>`.
""")

TOKEN_HEADER = OpenApiParameter(
    "X-Response-Token",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        gettext_lazy(
            "Anonymous surveys only: the `response_token` received when the response was created. "
            "The server keeps no link between you and an anonymous response, so this token is "
            "the only way to resume the draft (stored sealed, unreadable from the database alone) or "
            "edit the submitted response. Submitting hands "
            "out a new token. A submitted anonymous response waits encrypted and becomes part of "
            "the results only when at least k responses (the survey's smallest group) are mixed "
            "together, or at close; nobody with the database alone can tell which one is yours."
        )
    ),
)

EXAMPLE_ANSWERS = {
    "q1Choice7Kd2": {"choice": "c1Yes8mPx9aB"},
    "q2Multi5Hk3z": {"choices": ["c2Tea3kLm7Qw", "c2Oth9pZx4Rt"], "other_text": "豆浆"},
    "q3Text2Bn6Yw": "活动时间可以早一点",
    "q4Nps8Jr5Tq": 9,
    "q5Date4Mv7C": "2025-06-01",
}
DRAFT_EXAMPLES = [
    OpenApiExample(
        "Partial draft",
        value={"answers": {"q1Choice7Kd2": {"choice": "c1Yes8mPx9aB"}, "q3Text2Bn6Yw": "活动"}},
        request_only=True,
    ),
]
SUBMIT_EXAMPLES = [
    OpenApiExample("Answers", value={"answers": EXAMPLE_ANSWERS}, request_only=True),
    OpenApiExample("Submit the stored draft", value={}, request_only=True),
]


def _token(request) -> str | None:
    return request.headers.get("X-Response-Token") or None


def _condition(condition) -> dict | None:
    if condition is None:
        return None
    return {
        "match": condition.match,
        "rules": [
            {"question_id": r.question_id, "operator": str(r.operator), "value": r.value}
            for r in condition.rules
        ],
    }


def _card(survey: Survey, status_value: str) -> dict:
    return {
        "id": survey.id,
        "community_id": survey.community_id,
        "title": survey.title,
        "description": survey.description,
        "state": survey.state(),
        "opens_at": survey.opens_at,
        "closes_at": survey.closes_at,
        "anonymous": survey.anonymous,
        "allow_multiple_responses": survey.allow_multiple_responses,
        "allow_edit_after_submit": survey.allow_edit_after_submit,
        "publish_results": survey.publish_results,
        "quiz_mode": survey.quiz_mode,
        "my_status": status_value,
    }


#: Soonest closing first (a survey without a closing time last), newest published first.
SURVEY_CURSOR = cursor_pagination("closing_at", "-published_at", "id")


class CommunitySurveysView(GenericAPIView):
    serializer_class = SurveyCardOut
    pagination_class = SURVEY_CURSOR

    @extend_schema(
        operation_id="listCommunitySurveys",
        tags=TAGS,
        summary=gettext_lazy("Open surveys of a community"),
        description=(
            gettext_lazy(
                "Published surveys of the community that are open now (after `opens_at`, before "
                "`closes_at`), soonest closing first, each with my status: `not_started`, `draft` "
                "(a draft is saved on the server) or `submitted`. `state` is `full` when the "
                "response cap is reached. Cursor-paginated."
            )
        ),
        responses={200: SurveyCardOut(many=True)},
    )
    def get(self, request, community_id: str):
        membership = visible_membership(request.user, community_id)
        page = self.paginate_queryset(open_surveys(membership=membership))
        with community_time(membership.community):
            data = SurveyCardOut([_card(s, s.my_status) for s in page], many=True).data
        return self.get_paginated_response(data)


class MySurveysView(GenericAPIView):
    serializer_class = SurveyCardOut
    pagination_class = SURVEY_CURSOR

    @extend_schema(
        operation_id="listMySurveys",
        tags=TAGS,
        summary=gettext_lazy("Open surveys of all my communities"),
        description=(
            gettext_lazy(
                "Like the community list, across every community I am an active or muted member "
                "of: soonest closing first, each with `community_id` and my status. Cursor-paginated."
            )
        ),
        responses={200: SurveyCardOut(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(open_surveys_of_user(user=request.user))
        data = []
        for survey in page:  # each card in the time zone of its own community
            with community_time(survey.community):
                data.append(SurveyCardOut(_card(survey, survey.my_status)).data)
        return self.get_paginated_response(data)


class SurveyDetailView(APIView):
    @extend_schema(
        operation_id="getSurvey",
        tags=TAGS,
        summary=gettext_lazy("Survey detail: pages, questions, choices and logic"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "Everything the client needs to render and pre-validate the survey. Questions "
                    "are listed page by page in display order; with `shuffle` configured, `choices` "
                    "come in an order stable for me. A page or question with a `condition` is shown "
                    "only when it holds over earlier answers (operators: equals, not_equals, "
                    "contains, greater, less; for multiple choice, equals/contains mean 'selected'). "
                    "The server validates the same rules on draft and submit."
                ),
                ANSWER_SHAPES,
            )
        ),
        responses={200: SurveyDetailOut},
    )
    def get(self, request, survey_id: str):
        survey, _membership = survey_for_member(user=request.user, survey_id=survey_id)
        definition = definition_for(survey)
        extra = extra_fields(survey)
        key = services.respondent_key(survey=survey, user=request.user)
        questions = []
        for q in definition.questions:
            low, high = q.scale_range
            has_scale = q.type in ("rating", "nps", "likert", "matrix")
            is_text = q.type in ("short_text", "long_text")
            questions.append(
                {
                    "id": q.id,
                    "page_id": q.page_id,
                    "type": q.type,
                    "title": q.title,
                    "description": extra["questions"].get(q.id, ""),
                    "required": q.required,
                    "choices": [
                        {"id": c.id, "label": c.label, "is_other": c.is_other}
                        for c in shuffled_choices(q, key)
                    ],
                    "rows": [{"id": r.id, "label": r.label} for r in q.rows],
                    "min_value": q.min_value,
                    "max_value": q.max_value,
                    "integer_only": q.integer_only,
                    "min_length": q.min_length,
                    "max_length": q.effective_max_length if is_text else None,
                    "pattern": q.pattern,
                    "pattern_message": q.pattern_message,
                    "min_selections": q.min_selections,
                    "max_selections": q.max_selections,
                    "scale_min": low if has_scale else None,
                    "scale_max": high if has_scale else None,
                    "scale_labels": list(q.scale_labels),
                    "condition": _condition(q.condition),
                }
            )
        body = {
            **_card(survey, my_status(survey=survey, user=request.user)),
            "thank_you_text": survey.thank_you_text,
            "pages": [
                {
                    "id": p.id,
                    "title": p.title,
                    "description": extra["pages"].get(p.id, ""),
                    "condition": _condition(p.condition),
                }
                for p in definition.pages
            ],
            "questions": questions,
            "quiz": _quiz_settings(survey) if survey.quiz_mode else None,
        }
        with community_time(survey.community):
            return Response(SurveyDetailOut(body).data)


def _quiz_settings(survey: Survey) -> dict:
    """A quiz's rules for the detail: points per question, never the correct answers."""
    key = answer_key_for(survey)
    return {
        "time_limit_seconds": survey.quiz_time_limit,
        "results": survey.quiz_results,
        "max_score": key.max_score,
        "question_points": {item.question_id: item.points for item in key.items},
    }


def _typed_answers(survey: Survey, answers: dict) -> dict:
    """Answers as the member sent them: a number answer is a JSON number (``3``, ``12.5``).
    The engine stores numbers as exact decimal strings (``"3"``), which stay the stored and
    exported form; the API gives them back with their type."""
    numbers = {q.id for q in definition_for(survey).questions if q.type == "number"}
    return {key: _number(value) if key in numbers else value for key, value in answers.items()}


def _number(value):
    if not isinstance(value, str):
        return value
    try:
        exact = Decimal(value)
    except InvalidOperation:
        return value
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def _draft_body(survey: Survey, response, user, *, token: str | None) -> dict:
    answers = response.answers if response else {}
    return {
        "answers": _typed_answers(survey, answers),
        "saved_at": response.updated_at if response else None,
        "my_status": my_status(survey=survey, user=user),
        "visible_question_ids": sorted(
            visible_question_ids(definition_for(survey), answers),
            key=[q.id for q in definition_for(survey).questions].index,
        ),
        "response_token": token,
    }


def _submitted_body(survey: Survey, response, *, token: str | None) -> dict:
    return {
        "response_id": None if survey.anonymous else response.id,
        "submitted_at": response.submitted_at,
        "updated_at": response.updated_at,
        "answers": _typed_answers(survey, response.answers),
        "thank_you_text": survey.thank_you_text,
        "can_edit": survey.allow_edit_after_submit,
        "response_token": token,
    }


class DraftView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getMyDraft",
        tags=TAGS,
        summary=gettext_lazy("My saved draft"),
        description=(
            gettext_lazy(
                "The draft stored on the server, so it can be resumed on another device. No "
                "draft: `answers` is `{}` and `saved_at` null. Anonymous surveys: send the "
                "`X-Response-Token` of the first save; the draft is stored sealed (encrypted under "
                "a key bound to the survey, padded, no timestamp), so someone with the database "
                "alone cannot read it, and submitting deletes it."
            )
        ),
        parameters=[TOKEN_HEADER],
        responses={200: DraftOut},
    )
    def get(self, request, survey_id: str):
        survey, _membership = survey_for_member(user=request.user, survey_id=survey_id)
        draft = services.response_get_draft(survey=survey, user=request.user, token=_token(request))
        body = _draft_body(survey, draft, request.user, token=None)
        with community_time(survey.community):
            return Response(DraftOut(body).data)

    @extend_schema(
        operation_id="saveMyDraft",
        tags=TAGS,
        summary=gettext_lazy("Save my draft"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "Replaces my draft (idempotent). Validation is partial: missing and incomplete "
                    "answers are fine, wrong ones are not (400 naming the question); answers to "
                    "hidden questions are dropped. 409 `survey_closed` / `survey_full` / "
                    "`survey_not_open` / `already_submitted` (edit the response instead); 403 when "
                    "muted or the group rules are not accepted. Nothing is saved on error."
                ),
                ANSWER_SHAPES,
            )
        ),
        parameters=[TOKEN_HEADER],
        request=AnswersIn,
        responses={200: DraftOut},
        examples=DRAFT_EXAMPLES,
    )
    def put(self, request, survey_id: str):
        survey, membership = survey_for_member(
            user=request.user, survey_id=survey_id, action=Action.PARTICIPATE
        )
        data = AnswersIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.response_save_draft(
            membership=membership,
            survey=survey,
            answers=data.validated_data["answers"],
            token=_token(request),
        )
        body = _draft_body(survey, result.response, request.user, token=result.new_token)
        with community_time(survey.community):
            return Response(DraftOut(body).data)


class SubmitView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="submitResponse",
        tags=TAGS,
        summary=gettext_lazy("Submit my response"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "Validates the whole response (required answers, limits, display logic: "
                    "answering a hidden question is an error) and submits it. With no `answers` "
                    "the stored draft is submitted. Returns the thank-you text. 409 "
                    "`survey_closed` / `survey_full` (the response cap is never exceeded, even "
                    "under parallel submissions) / `survey_not_open` / `already_submitted` / "
                    "`survey_changed` (a question or choice answered was deleted meanwhile); 403 "
                    "when muted or the group rules are not accepted. Nothing is saved on error."
                ),
                ANSWER_SHAPES,
            )
        ),
        parameters=[TOKEN_HEADER],
        request=SubmitIn,
        responses={201: SubmittedOut},
        examples=SUBMIT_EXAMPLES,
    )
    def post(self, request, survey_id: str):
        survey, membership = survey_for_member(
            user=request.user, survey_id=survey_id, action=Action.PARTICIPATE
        )
        data = validated(SubmitIn, request.data)
        result = services.response_submit(
            membership=membership,
            survey=survey,
            answers=data.get("answers"),
            token=_token(request),
        )
        body = _submitted_body(survey, result.response, token=result.new_token)
        with community_time(survey.community):
            return Response(represent(SubmittedOut, body), status=status.HTTP_201_CREATED)


class MyResponseView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getMyResponse",
        tags=TAGS,
        summary=gettext_lazy("My submitted response"),
        description=gettext_lazy(
            "My latest submitted response (anonymous surveys: the one of the token)."
        ),
        parameters=[TOKEN_HEADER],
        responses={200: SubmittedOut},
    )
    def get(self, request, survey_id: str):
        survey, _membership = survey_for_member(user=request.user, survey_id=survey_id)
        response = services.response_get_submitted(
            survey=survey, user=request.user, token=_token(request)
        )
        if response is None or response.status != ResponseStatus.SUBMITTED:
            raise NotFound(_("You have no submitted response to this survey."), code="no_response")
        with community_time(survey.community):
            return Response(SubmittedOut(_submitted_body(survey, response, token=None)).data)

    @extend_schema(
        operation_id="editMyResponse",
        tags=TAGS,
        summary=gettext_lazy("Edit my submitted response"),
        description=(
            format_lazy(
                "{}{}",
                gettext_lazy(
                    "Replaces the answers of my submitted response, with full validation, until the "
                    "survey closes - only when the survey has `allow_edit_after_submit` (else 409 "
                    "`editing_not_allowed`). 409 `survey_closed` / `survey_changed`; 404 `no_response` when I have not "
                    "submitted. Nothing is saved on error."
                ),
                ANSWER_SHAPES,
            )
        ),
        parameters=[TOKEN_HEADER],
        request=AnswersIn,
        responses={200: SubmittedOut},
        examples=[OpenApiExample("Answers", value={"answers": EXAMPLE_ANSWERS}, request_only=True)],
    )
    def put(self, request, survey_id: str):
        survey, membership = survey_for_member(
            user=request.user, survey_id=survey_id, action=Action.PARTICIPATE
        )
        data = AnswersIn(data=request.data)
        data.is_valid(raise_exception=True)
        response = services.response_edit(
            membership=membership,
            survey=survey,
            answers=data.validated_data["answers"],
            token=_token(request),
        )
        with community_time(survey.community):
            return Response(SubmittedOut(_submitted_body(survey, response, token=None)).data)


class ResultsView(APIView):
    @extend_schema(
        operation_id="getSurveyResults",
        tags=TAGS,
        summary=gettext_lazy("Summary results"),
        description=(
            gettext_lazy(
                "Counts and percentages per choice, mean/median and distribution of numbers and "
                "scales, NPS. Text answers are never published. 403 `results_not_published` "
                "unless the survey publishes its results; a quiz's only once its results are due "
                "(else 403 `quiz_results_not_due`)."
            )
        ),
        responses={200: ResultsOut},
    )
    def get(self, request, survey_id: str):
        survey, membership = survey_for_member(user=request.user, survey_id=survey_id)
        if survey.quiz_mode:  # the breakdown would hint at the answers before they are due
            quiz_require_results(
                survey=survey,
                membership=membership,
                entry=quiz_entry_of(survey=survey, membership=membership),
            )
        if not survey.publish_results:
            raise Forbidden(
                _("The results of this survey are not published."), code="results_not_published"
            )
        report = survey_report(survey, include_text=False, members=True)
        body = {
            "participant_count": report.submitted,
            "questions": [
                {
                    "id": q.id,
                    "title": q.title,
                    "type": q.type,
                    "kind": q.kind,
                    "answered": q.answered,
                    "hidden": q.hidden,
                    "choices": q.choices,
                    "distribution": q.distribution,
                    "mean": q.mean,
                    "median": q.median,
                    "nps": q.nps,
                    "scale": q.scale,
                    "matrix": q.matrix,
                }
                for q in report.questions
            ],
        }
        return Response(ResultsOut(body).data)


# --- quizzes --------------------------------------------------------------------------------
QUIZ_TAGS = ["quizzes"]


class QuizView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getMyQuizEntry",
        tags=QUIZ_TAGS,
        summary=gettext_lazy("My go at a quiz"),
        description=gettext_lazy(
            "Whether I started the quiz (the server's clock), my deadline when it has a time "
            "limit, whether my name shows on the leaderboard, and - once results are due - my "
            "score and my rank. 404 `not_a_quiz` for a survey that is not a quiz."
        ),
        responses={200: QuizEntryOut},
    )
    def get(self, request, survey_id: str):
        survey, membership = survey_for_member(user=request.user, survey_id=survey_id)
        body = quiz_my_status(survey=survey, membership=membership)
        with community_time(survey.community):
            return Response(QuizEntryOut(body).data)

    @extend_schema(
        operation_id="setQuizNameVisibility",
        tags=QUIZ_TAGS,
        summary=gettext_lazy("Show or hide my name on the leaderboard"),
        description=gettext_lazy(
            '`show_name: false` shows me as "anonymous player" on the leaderboard; '
            "allowed at any time after starting. 404 `quiz_not_started` before I started or "
            "submitted the quiz; 404 `not_a_quiz`."
        ),
        request=QuizNameIn,
        responses={200: QuizEntryOut},
    )
    def patch(self, request, survey_id: str):
        survey, membership = survey_for_member(user=request.user, survey_id=survey_id)
        data = QuizNameIn(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.quiz_set_name_visibility(
            membership=membership, survey=survey, show_name=data.validated_data["show_name"]
        )
        body = quiz_my_status(survey=survey, membership=membership, entry=entry)
        with community_time(survey.community):
            return Response(QuizEntryOut(body).data)


class QuizStartView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="startQuiz",
        tags=QUIZ_TAGS,
        summary=gettext_lazy("Start a quiz"),
        description=gettext_lazy(
            "Records when I started, by the server's clock; a time limit counts from here and "
            "a submission after `deadline` (plus a few seconds' grace) is refused with 409 "
            "`quiz_time_up`. Idempotent: calling it again never restarts the clock (it only "
            "applies `show_name` when sent). A quiz with a time limit must be started before "
            "submitting (else 409 `quiz_not_started`). 409 `survey_closed` / `survey_full` / "
            "`survey_not_open` for a first start; 403 when muted or the group rules are not "
            "accepted; 404 `not_a_quiz`."
        ),
        request=QuizStartIn,
        responses={200: QuizEntryOut},
    )
    def post(self, request, survey_id: str):
        survey, membership = survey_for_member(
            user=request.user, survey_id=survey_id, action=Action.PARTICIPATE
        )
        data = QuizStartIn(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.quiz_start(
            membership=membership, survey=survey, show_name=data.validated_data.get("show_name")
        )
        body = quiz_my_status(survey=survey, membership=membership, entry=entry)
        with community_time(survey.community):
            return Response(QuizEntryOut(body).data)


class QuizResultView(APIView):
    @extend_schema(
        operation_id="getMyQuizResult",
        tags=QUIZ_TAGS,
        summary=gettext_lazy("My quiz result with the correct answers"),
        description=gettext_lazy(
            "Per question: points, my answer, whether it was right, the correct choices or "
            "accepted answers, and the explanation; my score and rank. Shown once results are "
            "due: right after I submit when the quiz shows results after submitting, else "
            "when it closes (then also to members who did not take part, with a null score). "
            "Before that 403 `quiz_results_not_due`: the correct answers never leave the "
            "server early. 404 `not_a_quiz`."
        ),
        responses={200: QuizResultOut},
    )
    def get(self, request, survey_id: str):
        survey, membership = survey_for_member(user=request.user, survey_id=survey_id)
        body = quiz_my_result(survey=survey, membership=membership)
        for question in body["questions"]:
            if question["type"] == "number":
                question["my_answer"] = _number(question["my_answer"])
        with community_time(survey.community):
            return Response(QuizResultOut(body).data)


class QuizLeaderboardView(GenericAPIView):
    serializer_class = QuizLeaderboardRowOut
    #: Best score first, earlier submission first among equals (the index's order).
    pagination_class = cursor_pagination("-score", "submitted_at", "id")

    @extend_schema(
        operation_id="listQuizLeaderboard",
        tags=QUIZ_TAGS,
        summary=gettext_lazy("Quiz leaderboard"),
        description=gettext_lazy(
            "Submitted entries by score, equal scores ordered by submission time (earlier "
            "first), each with its place (`rank`), the member's nickname or \"anonymous "
            'player" unless they chose to show it, and `is_me`. My own rank is in '
            "getMyQuizEntry. Cursor-paginated. Readable when results are due for me, else 403 "
            "`quiz_results_not_due`; 404 `not_a_quiz`."
        ),
        responses={200: QuizLeaderboardRowOut(many=True)},
    )
    def get(self, request, survey_id: str):
        survey, membership = survey_for_member(user=request.user, survey_id=survey_id)
        page = self.paginate_queryset(quiz_leaderboard_for(survey=survey, membership=membership))
        first = quiz_rank(entry=page[0]) if page else 1
        anonymous = _("anonymous player")
        rows = [
            {
                "rank": first + offset,
                "name": (entry.membership.user.nickname or anonymous)
                if entry.show_name
                else anonymous,
                "score": entry.score,
                "submitted_at": entry.submitted_at,
                "is_me": entry.membership_id == membership.pk,
            }
            for offset, entry in enumerate(page)
        ]
        with community_time(survey.community):
            data = QuizLeaderboardRowOut(rows, many=True).data
        return self.get_paginated_response(data)
