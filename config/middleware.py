"""Cross-cutting HTTP middleware: structured request logs and the request size limit."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from tenants.network import client_ip

logger = logging.getLogger("sigap.request")


class RequestLogMiddleware:
    """One JSON log line per request. Never logs headers, bodies or query strings (secrets).
    The client address is ``tenants.network.client_ip``, the one the rate limits count."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        logger.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": getattr(user, "pk", None),
                "tenant": getattr(request, "tenant_slug", None),
                "client_ip": client_ip(request),
            },
        )
        response["X-Request-Id"] = request_id
        return response


def too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        {
            "type": "client_error",
            "errors": [
                {
                    "code": "request_too_large",
                    "detail": f"The request body is larger than the {limit} bytes allowed here.",
                    "attr": None,
                }
            ],
        },
        status=413,
    )


class RequestSizeLimitMiddleware:
    """Answers 413 before reading a body larger than the view allows.

    A view (or DRF view class) may declare ``max_request_bytes``; otherwise
    ``SIGAP_MAX_REQUEST_BYTES`` applies. Bodies without a Content-Length are capped by Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, which the API error handler also turns into 413.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        limit = getattr(view_func, "max_request_bytes", None)
        if limit is None:
            limit = getattr(getattr(view_func, "cls", None), "max_request_bytes", None)
        if limit is None:
            limit = settings.SIGAP_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return too_large(limit)
        return None
