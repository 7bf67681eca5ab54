"""URLs of the sign-up benchmark: the product's URLs plus the *floor*, a minimal sign-up.

The floor is what a sign-up cannot go below on this stack: the same bearer authentication and
write throttle (as the vote, survey and board floors), then one transaction with the registration ``INSERT ... ON CONFLICT DO NOTHING`` and the
guarded seat ``UPDATE``, hand-written SQL, no membership check, no validation, no outbox, no
serializer. ``signup_over_floor`` in ``bench_signups.py`` says how close the real endpoint
comes. Only ``tests/benchmarks/bench_settings.py`` routes here; production never does."""

from __future__ import annotations

import secrets

from django.db import connection, transaction
from django.urls import path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from community.ids import new_public_id
from community.throttling import WriteThrottle
from community.urls import urlpatterns as product_urlpatterns


class FloorSignUp(APIView):
    throttle_classes = [WriteThrottle]

    def put(self, request, community_id: str, event_id: str):
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO events_registration (id, community_id, event_id, user_id, status, "
                "guests, guests_wanted, seats, accept_partial, note, answers, signed_up_at, "
                "cancel_reason, checkin_secret, created_at, updated_at, confirmed_at) "
                "VALUES (%s, %s, %s, %s, 'confirmed', 0, 0, 1, false, '', '{}', %s, '', %s, "
                "%s, %s, %s) ON CONFLICT (community_id, event_id, user_id) DO NOTHING",
                [
                    new_public_id(),
                    community_id,
                    event_id,
                    request.user.pk,
                    now,
                    secrets.token_urlsafe(24),
                    now,
                    now,
                    now,
                ],
            )
            inserted = cursor.rowcount == 1
            taken = None
            if inserted:
                cursor.execute(
                    "UPDATE events_event SET seats_taken = seats_taken + 1 WHERE id = %s AND "
                    "(capacity IS NULL OR seats_taken + 1 <= capacity) RETURNING seats_taken",
                    [event_id],
                )
                row = cursor.fetchone()
                taken = row[0] if row else None
        return Response({"inserted": inserted, "seats_taken": taken})


urlpatterns = [
    *product_urlpatterns,
    path("bench/floor/<str:community_id>/<str:event_id>", FloorSignUp.as_view()),
]
