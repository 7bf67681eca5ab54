"""The answers' composite foreign key (``0008``) becomes two triggers that check the same:
one per INSERT or UPDATE statement on answers (every row must name a response of its own
survey and community), and one deferred to COMMIT per deleted or re-keyed response (no answer
row may still name it). A foreign key checks each answer row on its own and share-locks the
response row for it: a submit paid about thirty such checks, a mix of twenty-five responses
some 750. PostgreSQL only, like the key it replaces."""

from django.db import migrations

from community.db.migration_ops import PostgreSQLOnly


CONSTRAINT = "answer_response_scope_fk"

CREATE = f"""
ALTER TABLE surveys_answer DROP CONSTRAINT {CONSTRAINT};

CREATE FUNCTION surveys_answers_scoped() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    scope record;
BEGIN
    -- One primary-key look-up per response the statement's rows name (a loop, not a join:
    -- the planner knows nothing of the rows written and may hash the whole response table).
    FOR scope IN SELECT DISTINCT response_id, survey_id, community_id FROM answers_written LOOP
        PERFORM FROM surveys_response r
        WHERE r.id = scope.response_id AND r.survey_id = scope.survey_id
            AND r.community_id = scope.community_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'an answer row names no response % of its survey and community',
                scope.response_id
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{CONSTRAINT}';
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER answer_scope_insert AFTER INSERT ON surveys_answer
    REFERENCING NEW TABLE AS answers_written
    FOR EACH STATEMENT EXECUTE FUNCTION surveys_answers_scoped();
CREATE TRIGGER answer_scope_update AFTER UPDATE ON surveys_answer
    REFERENCING NEW TABLE AS answers_written
    FOR EACH STATEMENT EXECUTE FUNCTION surveys_answers_scoped();

CREATE FUNCTION surveys_response_unanswered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM surveys_answer WHERE response_id = OLD.id)
        AND (TG_OP = 'DELETE' OR (OLD.id, OLD.survey_id, OLD.community_id)
            IS DISTINCT FROM (NEW.id, NEW.survey_id, NEW.community_id)) THEN
        RAISE EXCEPTION 'response % still has answer rows', OLD.id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{CONSTRAINT}';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER answer_scope_response_delete AFTER DELETE ON surveys_response
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION surveys_response_unanswered();
CREATE CONSTRAINT TRIGGER answer_scope_response_rekey
    AFTER UPDATE OF id, survey_id, community_id ON surveys_response
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION surveys_response_unanswered();
"""

DROP = f"""
DROP TRIGGER answer_scope_insert ON surveys_answer;
DROP TRIGGER answer_scope_update ON surveys_answer;
DROP FUNCTION surveys_answers_scoped();
DROP TRIGGER answer_scope_response_delete ON surveys_response;
DROP TRIGGER answer_scope_response_rekey ON surveys_response;
DROP FUNCTION surveys_response_unanswered();
ALTER TABLE surveys_answer ADD CONSTRAINT {CONSTRAINT}
    FOREIGN KEY (survey_id, response_id, community_id)
    REFERENCES surveys_response (survey_id, id, community_id) DEFERRABLE INITIALLY DEFERRED;
"""



class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0009_answer_keys_checked_by_version"),
    ]

    operations = [
        PostgreSQLOnly(CREATE, DROP),
    ]
