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

FLOOR_SQL = (
    "WITH r AS (INSERT INTO surveys_response (id, community_id, survey_id, respondent_id, "
    "status, answers, respondent_key, created_at, updated_at, submitted_at) "
    "SELECT %s, community_id, id, %s, 'submitted', %s::jsonb, '', %s, %s, %s "
    "FROM surveys_survey WHERE id = %s RETURNING id, community_id, survey_id) "
    "INSERT INTO surveys_answer (community_id, survey_id, response_id, question_id, choice_id, "
    "row_id, number, text, date) SELECT r.community_id, r.survey_id, r.id, a.* FROM r, unnest("
    "%s::varchar[], %s::varchar[], %s::varchar[], %s::numeric[], %s::text[], %s::date[]) a"
)


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
        columns = [list(c) for c in zip(*_rows(answers), strict=True)] or [[]] * 6
        response_id, now = new_public_id(), timezone.now()
        with prepared_cursor() as cursor:
            cursor.execute(
                FLOOR_SQL,
                [
                    response_id,
                    request.user.pk,
                    json.dumps(answers),
                    now,
                    now,
                    now,
                    survey_id,
                    *columns,
                ],
            )
        return Response({"response_id": response_id, "submitted_at": now}, status=201)


urlpatterns = [
    path("api/v1/bench/surveys/<str:survey_id>/floor-submit", FloorSubmitView.as_view()),
    *product_urlpatterns,
]
