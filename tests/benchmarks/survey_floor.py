"""The floor of the survey submit benchmark: the least a submit can cost on our stack.

Served only by the benchmark's settings (``tests.benchmarks.survey_settings``, whose
``ROOT_URLCONF`` is this module), never by production URLs. ``POST
/api/v1/bench/surveys/{id}/floor-submit`` runs what every submit must: the same bearer-token
authentication, write throttle and JSON parsing (DRF, our settings; the vote and board floors
pay the same), then one raw ``INSERT`` of a submitted
response and its answer rows (one data-modifying ``WITH``, in autocommit, prepared on the
server as the real submit's statements are: ``community.db.prepared``), and a small JSON
answer. No validation, no membership or survey check, no participation, no cap: the real
endpoint's cost over this floor is what our code adds (``submit_over_floor``)."""

from __future__ import annotations

import json
from decimal import Decimal

from django.urls import path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from community.db.prepared import prepared_cursor
from community.ids import new_public_id
from community.throttling import WriteThrottle
from community.urls import urlpatterns as product_urlpatterns
from surveys.response_store import ANSWER_ROW_VALUES, ANSWER_ROWS_FROM, answer_rows_json

FLOOR_SQL = (
    "WITH r AS (INSERT INTO surveys_response (id, community_id, survey_id, respondent_id, "  # noqa: S608
    "status, answers, respondent_key, created_at, updated_at, submitted_at) "
    "SELECT %(id)s, community_id, id, %(user)s, 'submitted', %(answers)s::jsonb, '', %(now)s, "
    "%(now)s, %(now)s FROM surveys_survey WHERE id = %(survey)s "
    "RETURNING id, community_id, survey_id) "
    "INSERT INTO surveys_answer (community_id, survey_id, response_id, question_id, choice_id, "
    f"row_id, number, text, date) SELECT r.community_id, r.survey_id, r.id, {ANSWER_ROW_VALUES} "
    f"FROM r, {ANSWER_ROWS_FROM}"
)
"""The answer rows go as one JSON parameter, as the real submit's do
(``surveys.response_store.answer_rows_json``): the cheapest way found to bind them."""


def _rows(answers: dict) -> list[tuple]:
    """Answer rows read straight off the body (as many as the real submit writes)."""
    rows = []
    for question_id, value in answers.items():
        if isinstance(value, dict) and "choice" in value:
            rows.append((question_id, value["choice"], None, None, "", None))
        elif isinstance(value, dict) and "choices" in value:
            rows += [(question_id, c, None, None, "", None) for c in value["choices"]]
        elif isinstance(value, dict):  # matrix
            rows += [(question_id, None, r, Decimal(p), "", None) for r, p in value.items()]
        elif isinstance(value, list):  # ranking
            rows += [(question_id, c, None, Decimal(i), "", None) for i, c in enumerate(value, 1)]
        elif isinstance(value, int):
            rows.append((question_id, None, None, Decimal(value), "", None))
        else:
            rows.append((question_id, None, None, None, str(value), None))
    return rows


class FloorSubmitView(APIView):
    """The minimal submit (see the module docstring)."""

    throttle_classes = [WriteThrottle]

    def post(self, request, survey_id: str):
        answers = request.data.get("answers") or {}
        response_id, now = new_public_id(), timezone.now()
        with prepared_cursor() as cursor:
            cursor.execute(
                FLOOR_SQL,
                {
                    "id": response_id,
                    "user": request.user.pk,
                    "answers": json.dumps(answers),
                    "now": now,
                    "survey": survey_id,
                    "rows": answer_rows_json(_rows(answers)),
                },
            )
        return Response({"response_id": response_id, "submitted_at": now}, status=201)


urlpatterns = [
    path("api/v1/bench/surveys/<str:survey_id>/floor-submit", FloorSubmitView.as_view()),
    *product_urlpatterns,
]
