"""Every write of the surveys app, one keyword-only function per use case, split by concern:
``authoring`` (the definition: survey settings, pages, questions, choices), ``lifecycle``
(publish, close, duplicate), ``responses`` (submissions, edits), ``drafts`` (saving a draft), ``mixing`` (the box of anonymous surveys),
``quiz`` (quiz mode: start, name on the leaderboard, scoring) and ``exports``.

``from surveys import services; services.x`` and ``from surveys.services import x`` both work.
Lock order (always): the member's participation row, then their response row, then the survey
row last (see ``surveys.services.responses``); authoring locks the survey row alone.
"""

from surveys.services.authoring import (
    PAGE_FIELDS,
    QUESTION_FIELDS,
    SURVEY_FIELDS,
    ChoiceSpec,
    choice_sync,
    page_create,
    page_delete,
    page_update,
    question_create,
    question_delete,
    question_update,
    survey_create,
    survey_has_submissions,
    survey_update,
)
from surveys.services.common import DefinitionInvalid, respondent_key
from surveys.services.drafts import response_save_draft
from surveys.services.exports import export_file, export_request, export_run, exports_sweep
from surveys.services.lifecycle import (
    survey_check,
    survey_close,
    survey_duplicate,
    survey_publish,
)
from surveys.services.mixing import survey_responses_mix, survey_responses_mix_due
from surveys.services.quiz import (
    quiz_check,
    quiz_deadline,
    quiz_set_name_visibility,
    quiz_start,
)
from surveys.services.responses import (
    ResponseResult,
    response_edit,
    response_get_draft,
    response_get_submitted,
    response_submit,
)

__all__ = [
    "PAGE_FIELDS",
    "QUESTION_FIELDS",
    "SURVEY_FIELDS",
    "ChoiceSpec",
    "choice_sync",
    "page_create",
    "page_delete",
    "page_update",
    "question_create",
    "question_delete",
    "question_update",
    "survey_create",
    "survey_has_submissions",
    "survey_update",
    "DefinitionInvalid",
    "ResponseResult",
    "quiz_check",
    "quiz_deadline",
    "quiz_set_name_visibility",
    "quiz_start",
    "export_file",
    "export_request",
    "exports_sweep",
    "export_run",
    "respondent_key",
    "response_edit",
    "response_get_draft",
    "response_get_submitted",
    "response_save_draft",
    "response_submit",
    "survey_check",
    "survey_close",
    "survey_duplicate",
    "survey_publish",
    "survey_responses_mix",
    "survey_responses_mix_due",
]
