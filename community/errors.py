"""Domain errors raised by services, and the one place they become HTTP errors.

Services raise these (or Django's ``ValidationError``) without knowing about HTTP. The exception
handler below turns them into DRF exceptions, which drf-standardized-errors renders in the one
error shape: ``{"type": ..., "errors": [{"code", "detail", "attr"}]}``.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, status
from rest_framework.exceptions import ErrorDetail

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A request that breaks a business rule. ``message`` is shown to the member as is, so it is
    a translated, complete sentence; ``code`` is stable for the client to branch on."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field


class Forbidden(DomainError):
    """The member is known but may not do this (tier too low, muted, rules not accepted)."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "permission_denied"


class NotFound(DomainError):
    """The object does not exist for this member (includes other communities' objects)."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


class Conflict(DomainError):
    """The object's state forbids the action now (a closed poll, a full event)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class TooManyRequests(DomainError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "throttled"


class UpstreamUnavailable(DomainError):
    """WeChat is busy or unreachable; the client may retry later."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "wechat_unavailable"


class ServiceNotConfigured(UpstreamUnavailable):
    """A service the request needs (WeChat) has no credentials on this server: an operator's
    fix, not the member's, so 503 rather than a crash."""

    default_code = "wechat_not_configured"


class RequestTooLarge(exceptions.APIException):
    """The body is over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django's ``RequestDataTooBig``)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self):
        limit_kb = (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) // 1024
        super().__init__(
            _("The request body is too large (at most %(limit)s KB).") % {"limit": limit_kb}
        )


class _DomainAPIException(exceptions.APIException):
    def __init__(self, error: DomainError):
        self.status_code = error.status_code
        detail = ErrorDetail(error.message, code=error.code)
        super().__init__(detail=detail, code=error.code)


class ApiExceptionHandler(ExceptionHandler):
    """drf-standardized-errors' handler, also converting our domain errors and Django's
    ``ValidationError`` (raised by services and model ``full_clean``)."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        if isinstance(exc, DomainError):
            if exc.field:
                return exceptions.ValidationError(
                    {exc.field: [ErrorDetail(exc.message, code=exc.code)]}
                )
            return _DomainAPIException(exc)
        if isinstance(exc, DjangoValidationError):
            if hasattr(exc, "error_dict"):
                return exceptions.ValidationError(
                    {
                        field: [
                            ErrorDetail(e.message % (e.params or {}), code=e.code or "invalid")
                            for e in errs
                        ]
                        for field, errs in exc.error_dict.items()
                    }
                )
            return exceptions.ValidationError(
                [
                    ErrorDetail(e.message % (e.params or {}), code=e.code or "invalid")
                    for e in exc.error_list
                ]
            )
        if isinstance(exc, OperationalError | InterfaceError):
            # The database connection broke (restart, failover, terminated backend): the
            # transaction was rolled back, nothing was half-written and the request may be
            # retried. Django closes the broken connection when the request ends
            # (``close_if_unusable_or_obsolete``), so the next request gets a fresh one.
            logger.warning("database unavailable: %s: %s", type(exc).__name__, exc)
            return _DomainAPIException(
                UpstreamUnavailable(
                    _("The service is briefly unavailable. Please try again in a moment."),
                    code="database_unavailable",
                )
            )
        return super().convert_known_exceptions(exc)

    def report_exception(self, exc: exceptions.APIException, response) -> None:
        # A domain 503 (WeChat busy or not configured) is an answer the contract promises, not a
        # crash: log it without the ``got_request_exception`` signal error trackers listen to.
        if isinstance(self.exc, DomainError):
            logger.warning("%s %s: %s", response.status_code, self.exc.code, self.exc.message)
            return
        super().report_exception(exc, response)
