"""``surveys_submission_refused()``: raised by the one-statement submission
(``surveys.response_store.submission_at_once``) when the guarded count matched no survey row
(closed, full, or another definition version), so the statement's writes are undone with it.
The statement then runs on its own, without a transaction around it: no ``BEGIN`` and
``COMMIT`` round trips. It raises as a check violation of ``survey_submission_counted``, the
name the caller looks for. PostgreSQL only, like the statement."""

from django.db import migrations

from community.db.migration_ops import PostgreSQLOnly

CREATE = """
CREATE FUNCTION surveys_submission_refused() RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION 'the survey did not count this submission: closed, full or changed'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'survey_submission_counted';
END
$$;
"""

DROP = "DROP FUNCTION surveys_submission_refused();"



class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0011_box_waiting_counted_with_the_submission"),
    ]

    operations = [
        PostgreSQLOnly(CREATE, DROP),
    ]
