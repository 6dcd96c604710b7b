"""Error answers: what went wrong, never how.

Every error body has the API's one shape, ``{"type", "errors": [{"code", "detail", "attr"}]}``.
A server error (500) says only that something failed and gives the request id
(``"request_id"`` in the body, ``X-Request-Id`` header) a user can quote; the traceback and any
database message go to the log under that id. Django's technical error page is shown only with
``DEBUG`` on and to a signed-in active superuser, never to anyone else.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from drf_standardized_errors.handler import ExceptionHandler as StandardizedExceptionHandler
from rest_framework import exceptions

logger = logging.getLogger("sigap.error")


def error_response(
    status: int,
    *,
    type: str,
    code: str,
    detail: str,
    attr: str | None = None,
    **extra: Any,
) -> JsonResponse:
    """One error in the API's shape, for answers given outside DRF views."""
    body = {"type": type, "errors": [{"code": code, "detail": detail, "attr": attr}], **extra}
    response = JsonResponse(body, status=status)
    response.sigap_error = True  # type: ignore[attr-defined]  # made here: the safety net keeps it
    return response


def request_id(request: HttpRequest) -> str:
    return getattr(request, "request_id", "") or ""


def server_error_response(request: HttpRequest) -> JsonResponse:
    return error_response(
        500,
        type="server_error",
        code="error",
        detail=_("A server error occurred; quote the request id when you report it."),
        request_id=request_id(request),
    )


def may_see_debug_page(request: HttpRequest) -> bool:
    """Only a signed-in, active superuser, and only with DEBUG on, sees Django's debug page."""
    if not settings.DEBUG:
        return False
    try:
        user = getattr(request, "user", None)
        return bool(user and user.is_authenticated and user.is_active and user.is_superuser)
    except Exception:  # noqa: BLE001 - the user lookup itself may be what failed
        return False


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """``handler500``: Django's last resort (an exception outside any view) answers JSON."""
    return server_error_response(request)


class ExceptionHandler(StandardizedExceptionHandler):
    """DRF errors keep drf-standardized-errors' shape; anything else (a bug, a database error)
    is left to ``config.middleware.RequestLogMiddleware``, which logs it under the request id
    and answers the one 500 body, with or without DEBUG."""

    def should_not_handle(self, exc: Exception) -> bool:
        return not isinstance(exc, exceptions.APIException)
