"""Error answers: what went wrong, never how.

Every error body has the API's one shape, ``{"type", "errors": [{"code", "detail", "attr"}]}``.
A server error (500) says only that something failed and gives the request id
(``"request_id"`` in the body, ``X-Request-Id`` header) a user can quote; the traceback and any
database message go to the log under that id. Django's technical error page is shown only with
``DEBUG`` on and to a signed-in active superuser, never to anyone else. A path that matches no
route answers 404 in the same shape (code ``not_found``), never Django's HTML or debug page.
A request that waited
``DB_POOL_TIMEOUT`` seconds for a database connection in vain answers 503 with ``Retry-After``
(code ``unavailable``): an overload, not a bug, so it is logged as a warning without traceback.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from drf_standardized_errors.handler import ExceptionHandler as StandardizedExceptionHandler
from rest_framework import exceptions

logger = logging.getLogger("sigap.error")

# Seconds a caller is asked to wait after a 503 for an exhausted database pool.
UNAVAILABLE_RETRY_AFTER_S = 5


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


def is_pool_exhausted(exception: BaseException | None) -> bool:
    """True when ``exception`` (or what caused it) says no database connection came free in
    time: the pool's ``DB_POOL_TIMEOUT`` ran out, or too many requests were already waiting."""
    from psycopg_pool import PoolTimeout, TooManyRequests

    seen: set[int] = set()
    while exception is not None and id(exception) not in seen:
        if isinstance(exception, PoolTimeout | TooManyRequests):
            return True
        seen.add(id(exception))
        exception = exception.__cause__ or exception.__context__
    return False


def unavailable_response(request: HttpRequest) -> JsonResponse:
    """503 for a request that found every database connection busy for too long: the server
    is overloaded, not broken, and the caller may retry."""
    response = error_response(
        503,
        type="server_error",
        code="unavailable",
        detail=_("The server is busy; try again in a few seconds."),
        request_id=request_id(request),
    )
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_S)
    return response


def not_found_response(request: HttpRequest) -> JsonResponse:
    """404 for a path that matches no route, in the API's shape (with or without DEBUG)."""
    return error_response(
        404,
        type="client_error",
        code="not_found",
        detail=_("Nothing is served at this address."),
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
    """``handler500``: Django's last resort (an exception outside any view) answers JSON; a
    database pool that stayed exhausted answers 503."""
    if is_pool_exhausted(sys.exc_info()[1]):
        return unavailable_response(request)
    return server_error_response(request)


class ExceptionHandler(StandardizedExceptionHandler):
    """DRF errors keep drf-standardized-errors' shape; anything else (a bug, a database error)
    is left to ``config.middleware.RequestLogMiddleware``, which logs it under the request id
    and answers the one 500 body, with or without DEBUG."""

    def should_not_handle(self, exc: Exception) -> bool:
        return not isinstance(exc, exceptions.APIException)
