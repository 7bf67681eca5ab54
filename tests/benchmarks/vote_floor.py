"""The floor of the vote benchmark: the least a vote can cost behind the same token
authentication, in raw SQL (never in production URLs: only ``tests.benchmarks.vote_settings``,
the settings ``bench_votes.py`` runs gunicorn with, serves this URL module).

``PUT /bench/floor/polls/<poll_id>/ballot {"option_ids": [one id]}`` does what a single-choice
vote must do and nothing else: the member's ballot upserted in one statement (returning the
choice it replaces), then the tallies moved by the still-open guard in one statement, in key
order, in one transaction, prepared on the server as the real vote's statements are
(``community.db.prepared``). No membership check, no validation, no serializers: what the real
``PUT /api/v1/polls/<id>/ballot`` adds on top of this is what ``vote_over_floor`` measures."""

from __future__ import annotations

import json

from django.db import transaction
from django.urls import path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from community.db.prepared import prepared_cursor
from community.throttling import WriteThrottle
from community.urls import urlpatterns as production_urlpatterns

_UPSERT = """
WITH old AS (
    SELECT id, choices->'option_ids'->>0 AS opt FROM polls_ballot
    WHERE community_id = %(c)s AND poll_id = %(p)s AND voter_id = %(v)s FOR NO KEY UPDATE
), ins AS (
    INSERT INTO polls_ballot (community_id, poll_id, voter_id, choices, reason, created_at,
        updated_at)
    SELECT %(c)s, %(p)s, %(v)s, %(choices)s::jsonb, '', %(now)s, %(now)s
    WHERE NOT EXISTS (SELECT 1 FROM old)
    ON CONFLICT (community_id, poll_id, voter_id) DO NOTHING RETURNING id
), upd AS (
    UPDATE polls_ballot AS b SET choices = %(choices)s, updated_at = %(now)s
    FROM old WHERE b.id = old.id RETURNING old.opt
)
SELECT (SELECT count(*) FROM ins), (SELECT opt FROM upd)
"""

_GUARD_AND_TALLY = """
WITH guard AS (
    {head}
)
INSERT INTO polls_tally (community_id, poll_id, key, count)
SELECT v.c, v.p, v.k, v.n FROM (VALUES {values}) AS v(c, p, k, n)
WHERE EXISTS (SELECT 1 FROM guard) ORDER BY v.k
ON CONFLICT (community_id, poll_id, key)
DO UPDATE SET count = polls_tally.count + 2 * excluded.count - 1
"""
_NEW_VOTER = """UPDATE polls_poll SET voter_count = voter_count + 1
    WHERE id = %s AND closed_at IS NULL AND finalized_at IS NULL AND closes_at > %s RETURNING 1"""
_STILL_OPEN = """SELECT 1 FROM polls_poll
    WHERE id = %s AND closed_at IS NULL AND finalized_at IS NULL AND closes_at > %s FOR SHARE"""


class FloorVote(APIView):
    throttle_classes = [WriteThrottle]

    def put(self, request, poll_id: str):
        option = request.data["option_ids"][0]
        community_id = request.query_params["c"]
        now = timezone.now()
        params = {
            "c": community_id,
            "p": poll_id,
            "v": request.user.pk,
            "choices": json.dumps({"option_ids": [option]}),
            "now": now,
        }
        with transaction.atomic(), prepared_cursor() as cursor:
            cursor.execute(_UPSERT, params)
            inserted, old = cursor.fetchone()
            if inserted:
                head = _NEW_VOTER
                rows = [(option, 1)]  # 1: +1, 0: -1 (a CHECK refuses a -1 row)
            elif old != option:
                head = _STILL_OPEN
                rows = sorted([(option, 1), (old, 0)])
            else:
                rows = []
            if rows:
                values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
                sql = _GUARD_AND_TALLY.format(head=head, values=values)
                flat = [x for key, n in rows for x in (community_id, poll_id, key, n)]
                cursor.execute(sql, [poll_id, now, *flat])
        return Response({"voted": True, "option_ids": [option]})


urlpatterns = [
    path("bench/floor/polls/<str:poll_id>/ballot", FloorVote.as_view()),
    *production_urlpatterns,
]
