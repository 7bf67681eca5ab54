"""What the surveys services share: their errors and the checks every response goes through."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from community.errors import Conflict, DomainError
from community.models import User
from surveys.engine import (
    NON_FIELD_ERRORS,
    CleanResult,
    DefinitionError,
)
from surveys.models import (
    Survey,
    SurveyState,
)


# --- errors ---------------------------------------------------------------------------------
class DefinitionInvalid(DomainError):
    """The survey's definition does not pass ``check_definition``; ``errors`` lists why."""

    default_code = "invalid_definition"

    def __init__(self, errors: list[DefinitionError]):
        super().__init__(
            _("The survey cannot be published: %(count)d problem(s) in its questions.")
            % {"count": len(errors)}
        )
        self.errors = errors


def _raise_answer_errors(result: CleanResult) -> None:
    """Raise a 400 whose error ``attr`` names the question: ``answers.<question id>``.

    Django's ``ValidationError`` (which ``community.errors`` turns into our error shape), not
    DRF's: services know nothing of HTTP. Each message goes in as a parameter, so a ``%`` in
    the engine's text is never read as a format directive."""
    if result.is_valid:
        return
    detail = {}
    for key, messages in result.errors.items():
        attr = "answers" if key == NON_FIELD_ERRORS else f"answers.{key}"
        detail[attr] = [
            ValidationError("%(message)s", code="invalid_answer", params={"message": message})
            for message in messages
        ]
    raise ValidationError(detail)


def _refuse_unless_accepting(survey: Survey, *, editing: bool = False) -> None:
    """409 unless the survey takes answers now (an edit of a submitted response is also
    fine when the survey is full, since it adds nothing)."""
    state = survey.state()
    if state == SurveyState.OPEN or (editing and state == SurveyState.FULL):
        return
    if state == SurveyState.FULL:
        raise Conflict(_("This survey has reached its response limit."), code="survey_full")
    if state == SurveyState.SCHEDULED:
        raise Conflict(_("This survey is not open yet."), code="survey_not_open")
    raise Conflict(_("This survey is closed."), code="survey_closed")


def respondent_key(*, survey: Survey, user: User) -> str:
    """Stable per (survey, member) key for shuffling choices. An HMAC, so it reveals nothing
    about the member; never stored for anonymous surveys."""
    message = f"{survey.pk}:{user.pk}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]
