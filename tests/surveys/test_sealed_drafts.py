"""Server-side drafts of anonymous surveys are sealed: unreadable from the database alone,
resumable on another device with the member's token, deleted at submit."""

from __future__ import annotations

import importlib

import pytest
from cryptography.exceptions import InvalidTag
from django.apps import apps
from django.db import connection

from community import sealing
from surveys.draft_box import draft_box, draft_open
from surveys.models import (
    Response,
    ResponseStatus,
    SealedDraft,
    Survey,
    draft_lookup,
    hash_edit_token,
    new_edit_token,
)
from tests.conftest import client_for
from tests.surveys.factories import basic_questions, make_survey

pytestmark = pytest.mark.django_db

SECRET_TEXT = "我其实不想去徒步"


@pytest.fixture
def anonymous(community):
    return make_survey(community, basic_questions(), anonymous=True, allow_edit_after_submit=True)


def _rows_text() -> str:
    """Every row of every table, as text: what a database dump shows."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from introspection
            for row in cursor.fetchall():
                parts.extend(
                    bytes(v).decode("latin-1") if isinstance(v, memoryview | bytes) else str(v)
                    for v in row
                )
    return "\n".join(parts)


def test_an_anonymous_draft_is_sealed_resumable_and_gone_at_submit(member, anonymous):
    membership, client = member
    url = f"/api/v1/surveys/{anonymous.id}"
    q3 = anonymous.q["q3"].id
    saved = client.put(f"{url}/draft", {"answers": {q3: SECRET_TEXT}}, format="json")
    assert saved.status_code == 200, saved.json()
    token = saved.json()["response_token"]
    assert token and saved.json()["answers"] == {q3: SECRET_TEXT}

    # The database holds one sealed row: no answer, no question id, no time, no token hash.
    assert not Response.objects.exists()
    row = SealedDraft.objects.get()
    assert row.lookup == draft_lookup(token) != hash_edit_token(token)
    dump = _rows_text()
    assert SECRET_TEXT not in dump and SECRET_TEXT.encode().decode("latin-1") not in dump
    assert q3 not in bytes(row.sealed).decode("latin-1")
    assert hash_edit_token(token) not in dump
    columns = {
        c.name
        for c in connection.introspection.get_table_description(
            connection.cursor(), SealedDraft._meta.db_table
        )
    }
    assert columns == {"id", "community_id", "survey_id", "lookup", "sealed"}
    # Control: with the application's secret and the token, it opens; with another survey's
    # key it does not.
    assert draft_open(survey=anonymous, token=token).answers == {q3: SECRET_TEXT}
    other = Survey(pk="someothersurv", community_id=anonymous.community_id)
    with pytest.raises(InvalidTag):
        sealing.unseal(
            secret="test-only-ballot-key-not-for-production-0123456789",
            box=draft_box(other.pk, row.lookup),
            sealed=row.sealed,
        )

    # Saving again replaces it (one row, the same size whatever the text's length).
    size = len(bytes(row.sealed))
    again = client.put(
        f"{url}/draft",
        {"answers": {q3: "短"}},
        format="json",
        HTTP_X_RESPONSE_TOKEN=token,
    )
    assert again.json()["response_token"] is None
    assert SealedDraft.objects.count() == 1
    assert len(bytes(SealedDraft.objects.get().sealed)) == size

    # Another device of the member resumes it with the token; without it there is none.
    elsewhere = client_for(membership.user)
    assert elsewhere.get(f"{url}/draft").json()["answers"] == {}
    resumed = elsewhere.get(f"{url}/draft", HTTP_X_RESPONSE_TOKEN=token).json()
    assert resumed["answers"] == {q3: "短"} and resumed["saved_at"]
    assert resumed["my_status"] == "draft"

    # Submitting the stored draft (no answers sent) deletes it in the same transaction.
    complete = {
        anonymous.q["q1"].id: {"choice": anonymous.c["q1"]["Yes"].id},
        anonymous.q["q2"].id: 4,
        q3: "短",
    }
    elsewhere.put(f"{url}/draft", {"answers": complete}, format="json", HTTP_X_RESPONSE_TOKEN=token)
    submitted = elsewhere.post(f"{url}/submit", {}, format="json", HTTP_X_RESPONSE_TOKEN=token)
    assert submitted.status_code == 201, submitted.json()
    assert submitted.json()["answers"][q3] == "短"
    assert not SealedDraft.objects.exists()
    assert elsewhere.get(f"{url}/draft", HTTP_X_RESPONSE_TOKEN=token).json()["answers"] == {}


def test_a_named_survey_keeps_its_draft_as_before(member, community):
    survey = make_survey(community, basic_questions())
    _m, client = member
    q3 = survey.q["q3"].id
    client.put(f"/api/v1/surveys/{survey.id}/draft", {"answers": {q3: "x"}}, format="json")
    assert not SealedDraft.objects.exists()
    assert Response.objects.get().status == ResponseStatus.DRAFT


def test_the_migration_seals_the_plaintext_drafts_saved_before(anonymous):
    token, token_hash = new_edit_token()
    q3 = anonymous.q["q3"].id
    Response.objects.create(
        community_id=anonymous.community_id,
        survey=anonymous,
        status=ResponseStatus.DRAFT,
        answers={q3: SECRET_TEXT},
        edit_token_hash=token_hash,
    )
    migration = importlib.import_module("surveys.migrations.0005_surveys_sealed_drafts")
    migration.seal_anonymous_drafts(apps, None)
    assert not Response.objects.exists()
    assert SECRET_TEXT not in _rows_text()
    assert draft_open(survey=anonymous, token=token).answers == {q3: SECRET_TEXT}
