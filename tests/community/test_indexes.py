"""Every index of the tables written on hot paths is a decision: each one costs every insert.

Django gives every indexed ``varchar`` a second ``varchar_pattern_ops`` (``_like``) index on
PostgreSQL; our backend (``community.db.backends.postgresql``) skips it for opaque ids, which
are never searched with ``LIKE``, and migration ``community.0004`` dropped the existing ones.
Adding an index to one of these tables means adding it here, with the query that uses it.

None of them has an index on ``community_id`` alone: each has a composite index (its
uniqueness constraint) that leads with it, which serves every query and foreign-key check by
community as well, so the foreign key is declared with ``db_index=False``. The answer rows are
the exception: their community, survey and response are checked by one composite foreign key to
the response (``surveys.models.Answer``), and they are read by survey or response, never by
community alone."""

from __future__ import annotations

import pytest
from django.db import connection, models
from django.db.backends.postgresql.schema import DatabaseSchemaEditor as StockSchemaEditor
from django.test.utils import isolate_apps

from community.ids import OpaqueCharField, PublicIdField
from community.models import Community

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="pattern indexes exist only on PostgreSQL"
    ),
]

# table -> {index name: definition after "USING"}
HOT_TABLE_INDEXES = {
    "community_membership": {
        "community_membership_pkey": "btree (id)",
        "community_membership_user_id_7312e19f": "btree (user_id)",
        "community_m_communi_fed280_idx": "btree (community_id, status, tier)",
        "membership_one_owner_per_community": (
            "btree (community_id) WHERE ((tier)::text = 'owner'::text)"
        ),
        "membership_one_per_user_and_community": "btree (community_id, user_id)",
        # joins and leaves per week (insights.selectors.joins_per_week, cohort_members)
        "membership_joined": "btree (community_id, joined_at)",
        "membership_left": "btree (community_id, left_at) WHERE (left_at IS NOT NULL)",
    },
    "community_authtoken": {
        "community_authtoken_pkey": "btree (id)",
        "community_authtoken_key_hash_key": "btree (key_hash)",
        "community_authtoken_user_id_3d654637": "btree (user_id)",
        "community_a_user_id_5d8887_idx": "btree (user_id, revoked_at)",
    },
    "community_notification": {
        "community_notification_pkey": "btree (id)",
        "community_notification_recipient_id_bf810c4d": "btree (recipient_id)",
        "community_n_status_c9b221_idx": "btree (status, created_at)",
        "notification_once_per_recipient_dedupe_key": (
            "btree (community_id, recipient_id, dedupe_key)"
        ),
    },
    "polls_participation": {
        "polls_participation_pkey": "btree (id)",
        "polls_participation_poll_id_97bca0fd": "btree (poll_id)",
        "polls_participation_user_id_3c743885": "btree (user_id)",
        "participation_one_per_member_and_poll": "btree (community_id, poll_id, user_id)",
    },
    "polls_ballot": {
        "polls_ballot_pkey": "btree (id)",
        "polls_ballot_poll_id_61cb5a81": "btree (poll_id)",
        "polls_ballot_voter_id_d26d4293": "btree (voter_id)",
        "ballot_one_per_member_and_poll": "btree (community_id, poll_id, voter_id)",
    },
    "polls_secretballot": {
        "polls_secretballot_pkey": "btree (id)",
        "polls_secretballot_poll_id_4bb961fb": "btree (poll_id)",
        "secretballot_receipt_unique": "btree (community_id, poll_id, receipt_hash)",
    },
    "polls_tally": {
        "polls_tally_pkey": "btree (id)",
        "polls_tally_poll_id_f91511fc": "btree (poll_id)",
        "tally_one_row_per_key": "btree (community_id, poll_id, key)",
    },
    "polls_boxentry": {
        "polls_boxentry_pkey": "btree (id)",
        "boxentry_one_per_ballot": "btree (community_id, poll_id, tag)",
    },
    "surveys_participation": {
        "surveys_participation_pkey": "btree (id)",
        "surveys_participation_survey_id_e87c492a": "btree (survey_id)",
        "surveys_participation_user_id_e4be9428": "btree (user_id)",
        "surveys_participation_draft_id_bffeb624": "btree (draft_id)",
        "surveys_participation_submitted_id_531cca93": "btree (submitted_id)",
        "participation_one_per_member": "btree (community_id, survey_id, user_id)",
    },
    "surveys_response": {
        "surveys_response_pkey": "btree (id)",
        "surveys_response_respondent_id_47419d84": "btree (respondent_id)",
        "surveys_res_communi_309b6c_idx": "btree (community_id, survey_id, status, submitted_at)",
        "response_edit_token_unique": (
            "btree (community_id, survey_id, edit_token_hash) WHERE (edit_token_hash IS NOT NULL)"
        ),
        # what the answers' composite foreign key points at; serves look-ups by survey too
        "response_scope": "btree (survey_id, id, community_id)",
    },
    "surveys_answer": {
        "surveys_answer_pkey": "btree (id)",
        "surveys_answer_response_id_5416c873": "btree (response_id)",
        "surveys_answer_question_id_c0166f3c": "btree (question_id)",
        # reports and cross-tabs (surveys.reports), survey deletion
        "answer_report": "btree (survey_id, question_id, choice_id)",
        # RESTRICT checks when a choice or matrix row is deleted; rows without one add nothing
        "answer_choice": "btree (choice_id) WHERE (choice_id IS NOT NULL)",
        "answer_row": "btree (row_id) WHERE (row_id IS NOT NULL)",
    },
    "surveys_sealedresponse": {
        "surveys_sealedresponse_pkey": "btree (id)",
        "surveys_sealedresponse_survey_id_059addba": "btree (survey_id)",
        "sealed_response_lookup_unique": "btree (community_id, survey_id, lookup)",
    },
}


def _indexes(tables) -> dict[str, dict[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, regexp_replace(indexdef, '^.* USING ', '') "
            "FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(%s)",
            [list(tables)],
        )
        found: dict[str, dict[str, str]] = {table: {} for table in tables}
        for table, name, definition in cursor.fetchall():
            found[table][name] = definition
    return found


def test_hot_tables_carry_exactly_the_listed_indexes():
    assert _indexes(HOT_TABLE_INDEXES) == HOT_TABLE_INDEXES


def test_no_pattern_index_on_any_opaque_id_column():
    from django.apps import apps

    from community.ids import is_opaque

    opaque = {
        (model._meta.db_table, field.column)
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.local_fields
        if is_opaque(field)
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, a.attname FROM pg_index x "
            "JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_opclass o ON o.oid = x.indclass[0] "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] "
            "WHERE o.opcname IN ('varchar_pattern_ops', 'text_pattern_ops')"
        )
        pattern_indexed = set(cursor.fetchall())
    assert len(opaque) > 40  # every public id and foreign key to one is seen
    assert pattern_indexed & opaque == set()
    # Columns searched by prefix keep theirs (the admin's username search, for one).
    assert ("community_user", "username") in pattern_indexed


@isolate_apps("community")
def test_new_tables_get_no_pattern_index_on_ids_and_the_stock_backend_would():
    """The backend, not the migration, is what keeps future tables (events, boards...) free
    of them; the control builds the same table with Django's stock schema editor."""

    class Board(models.Model):  # noqa: DJ008 (a throwaway table)
        id = PublicIdField()
        community = models.ForeignKey(Community, on_delete=models.CASCADE)
        secret_hash = OpaqueCharField(max_length=64, unique=True)
        title = models.CharField(max_length=50, db_index=True)

        class Meta:
            app_label = "community"
            db_table = "test_indexes_board"

    def pattern_columns() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'test_indexes_board' "
                "AND indexdef LIKE '%%pattern_ops%%'"
            )
            return {row[0].split("(")[1].split(" ")[0] for row in cursor.fetchall()}

    with connection.schema_editor() as editor:
        editor.create_model(Board)
    assert pattern_columns() == {"title"}
    with connection.schema_editor() as editor:
        editor.delete_model(Board)

    with StockSchemaEditor(connection) as editor:  # control
        editor.create_model(Board)
    assert pattern_columns() == {"id", "community_id", "secret_hash", "title"}
    with StockSchemaEditor(connection) as editor:
        editor.delete_model(Board)
