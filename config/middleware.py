"""Cross-cutting HTTP middleware: the database scope, request ids and logs, server errors, the
request size limit and the input guard.

- ``DatabaseScopeMiddleware`` (first) makes every request an entry point of the database scope
  (``tenants.dbscope``): it starts with no tenant, whatever the serving thread held before, and
  gets its tenants from the code that authorises it (``tenants.api.base`` for REST,
  ``tenants.graphql.permissions`` for GraphQL, ``AdminScopeMiddleware`` for the admin).
- ``AdminScopeMiddleware`` gives the admin's pages the staff user's scope
  (``tenants.admin_mixins.admin_scope``) once the user is known; the sign-in page keeps none.

- ``RequestLogMiddleware`` gives every request an id (a caller's well-formed ``X-Request-Id`` or
  a new one), echoes it in the ``X-Request-Id`` response header, adds it to every log record
  written while the request runs, and logs one JSON line per request. An exception no view
  handled is logged with its traceback under that id and answered with the API's 500 body
  (``config.errors``); Django's debug page is left to a signed-in superuser with DEBUG on. A
  request that found the database pool exhausted for ``DB_POOL_TIMEOUT`` seconds answers 503
  with ``Retry-After`` instead, wherever the wait happened (view or middleware). A path that
  matches no route answers the API's 404 body (``not_found``), with or without DEBUG.
- ``ProbeMiddleware`` answers ``/healthz`` and ``/readyz`` before every other middleware but
  the request log (see ``config/health.py``).
- ``InputGuardMiddleware`` refuses, with a 400 in the API's error shape, a path, query
  parameter or header holding a NUL character or a lone surrogate, before any view, form or
  database sees it.
- ``RequestSizeLimitMiddleware`` answers 413 before reading a body larger than the view allows.
- ``JsonBodyGuardMiddleware`` reads every JSON request body once with ``tenants.jsonguard``
  (depth, number and string limits) and refuses what no column could hold with a 400 naming
  the place; REST (token sign-in included) and GraphQL are covered alike. Views that read
  items themselves and refuse them one by one set ``guards_own_json = True``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone, translation
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

from config import errors
from config.request_context import current_request_id, log_request, request_id_for, request_logger
from tenants import dbscope, i18n, jsonguard
from tenants.network import client_ip

logger = request_logger


class DatabaseScopeMiddleware:
    """Each request is an entry point of the database scope: it starts with none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with dbscope.entry_point():
            return self.get_response(request)


class LanguageMiddleware:
    """Every request starts in the default language (Indonesian) and in UTC, whatever the
    serving thread held before, and leaves both as it found them; the code that authorises the
    request activates its user's and tenant's (``tenants.i18n``). The answer says which
    language it is in (``Content-Language``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        translation.activate(settings.LANGUAGE_CODE)
        timezone.deactivate()
        try:
            response = self.get_response(request)
            if "Content-Language" not in response:
                response["Content-Language"] = translation.get_language()
            return response
        finally:
            translation.deactivate()
            timezone.deactivate()


class AdminScopeMiddleware(MiddlewareMixin):
    """Admin pages run in the staff user's scope (after authentication, before the view), in
    the staff user's language and time zone (``tenants.i18n.activate_admin``; a page about
    one tenant switches to that tenant's in the admin screens)."""

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        from django.contrib import admin

        from tenants.admin_mixins import admin_scope

        match = request.resolver_match
        if match is not None and admin.site.name in match.namespaces:
            dbscope.set_entry_scope(admin_scope(request.user))
            i18n.activate_admin(request)
        return None


class RequestLogMiddleware:
    """One JSON log line per request. Never logs headers, bodies or query strings (secrets); a
    secret in a path (an invitation link's token) is redacted by the logging configuration's
    ``config.request_context.RedactSecretsFilter``, as in every other log line.
    The client address is ``tenants.network.client_ip``, the one the rate limits count."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.headers.get("X-Request-Id", ""))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current_request_id.set(request_id)
        try:
            started = time.perf_counter()
            response = self.get_response(request)
            if response.status_code == 500 and getattr(request, "sigap_pool_exhausted", False):
                # Raised outside a view (a middleware's query); noted by note_pool_exhaustion.
                response = errors.unavailable_response(request)
            elif (
                response.status_code == 500
                and not getattr(response, "sigap_error", False)
                and not errors.may_see_debug_page(request)
            ):
                # An error page made outside our handlers (Django's own, or its debug page):
                # the traceback is already logged; the caller gets the one 500 body.
                response = errors.server_error_response(request)
            elif response.status_code == 404 and _matched_no_route(request, response):
                response = errors.not_found_response(request)
            user = getattr(request, "user", None)
            log_request(
                request_id=request_id,
                method=request.method,
                path=request.path,
                status=response.status_code,
                started=started,
                user_id=getattr(user, "pk", None),
                tenant=getattr(request, "tenant_slug", None),
                client_ip=client_ip(request),
            )
        finally:
            current_request_id.reset(token)
        response["X-Request-Id"] = request_id
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """An exception a view raised and did not handle."""
        if errors.may_see_debug_page(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if isinstance(exception, SuspiciousOperation | BadRequest | MultiPartParserError):
            # Django would answer 400 (with DEBUG, a page with the traceback).
            logger.warning("bad request: %s", type(exception).__name__)
            return errors.error_response(
                400,
                type="client_error",
                code="too_many_fields" if isinstance(exception, TooManyFieldsSent) else "invalid",
                detail=_("The request is malformed."),
            )
        if _is_http_answer(exception):
            return None  # 404 and 403: Django's own answers, no traceback in them
        if errors.is_pool_exhausted(exception):
            logger.warning("database pool exhausted: answering 503")
            return errors.unavailable_response(request)
        errors.logger.error(
            "unhandled exception on %s %s",
            request.method,
            request.path,
            exc_info=exception,
            extra={"request_id": getattr(request, "request_id", None)},
        )
        return errors.server_error_response(request)


def note_pool_exhaustion(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``got_request_exception``: marks a request whose unhandled exception (outside a view,
    where ``process_exception`` does not see it) was an exhausted database pool."""
    if request is not None and errors.is_pool_exhausted(sys.exc_info()[1]):
        logger.warning("database pool exhausted: answering 503")
        request.sigap_pool_exhausted = True  # type: ignore[attr-defined]


got_request_exception.connect(note_pool_exhaustion, dispatch_uid="sigap-pool-exhaustion")


def _matched_no_route(request: HttpRequest, response: HttpResponse) -> bool:
    """A 404 Django made because no URL pattern matched (its HTML page, or with DEBUG its
    technical page): no view ran, so there is no ``resolver_match``. 404s that views answer
    (DRF's JSON, the admin's pages) are theirs to shape."""
    return getattr(request, "resolver_match", None) is None and not getattr(
        response, "sigap_error", False
    )


def _is_http_answer(exception: Exception) -> bool:
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    return isinstance(exception, Http404 | PermissionDenied)


def too_large(limit: int) -> JsonResponse:
    return errors.error_response(
        413,
        type="client_error",
        code="request_too_large",
        detail=f"The request body is larger than the {limit} bytes allowed here.",
    )


def refused(code: str, message: str, *, attr: str | None, where: str) -> JsonResponse:
    """400 for a value the guard refuses; ``where`` says which part of the request."""
    return errors.error_response(
        400,
        type="validation_error" if attr is not None else "client_error",
        code=code,
        detail=f"{where}: {message}" if where else message,
        attr=attr,
    )


class ProbeMiddleware:
    """Answers ``/healthz`` and ``/readyz`` straight away, past the security headers, input
    guards, sessions, authentication, CSRF, audit and lockout middleware that neither probe
    needs (they read no input but the client address), so a flood of probes costs as little
    Python per request as it can. It sits right after ``RequestLogMiddleware``: probes keep
    their request id and log line. The URL patterns stay, for ``reverse`` and the route walk."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from config import health

        self.get_response = get_response
        self.probes: dict[str, Callable[[HttpRequest], HttpResponse]] = {
            "/healthz": health.healthz,
            "/readyz": health.readyz,
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = self.probes.get(request.path_info)
        if probe is not None:
            return probe(request)
        return self.get_response(request)


class InputGuardMiddleware:
    """Refuses NUL characters and lone surrogates in the path, query parameters and headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.check(request) or self.get_response(request)

    @staticmethod
    def check(request: HttpRequest) -> HttpResponse | None:
        found = jsonguard.string_problem(request.path_info)
        if found:
            return refused(*found, attr=None, where=_("The URL path"))
        for name, values in request.GET.lists():
            found = jsonguard.string_problem(name)
            if found:
                return refused(*found, attr=None, where=_("A query parameter name"))
            for value in values:
                found = jsonguard.string_problem(value)
                if found:
                    return refused(*found, attr=name, where="")
        for key, value in request.META.items():
            if not (key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")):
                continue
            found = jsonguard.string_problem(value) if isinstance(value, str) else None
            if found:
                header = key.removeprefix("HTTP_").replace("_", "-").title()
                return refused(*found, attr=None, where=_("Header %(name)s") % {"name": header})
        return None


class RequestSizeLimitMiddleware(MiddlewareMixin):
    """Answers 413 before reading a body larger than the view allows.

    A view (or DRF view class) may declare ``max_request_bytes``; otherwise
    ``SIGAP_MAX_REQUEST_BYTES`` applies. Bodies without a Content-Length are capped by Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, which the API error handler also turns into 413.
    """

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        limit = _view_attribute(view_func, "max_request_bytes")
        if limit is None:
            limit = settings.SIGAP_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return too_large(limit)
        return None


def _view_attribute(view_func: Any, name: str) -> Any:
    """An attribute of a view function, its DRF class (``cls``) or Django class (``view_class``)."""
    for holder in (
        view_func,
        getattr(view_func, "cls", None),
        getattr(view_func, "view_class", None),
    ):
        value = getattr(holder, name, None)
        if value is not None:
            return value
    return None


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class JsonBodyGuardMiddleware(MiddlewareMixin):
    """Refuses JSON bodies too deep, with numbers or strings no column could hold, or not JSON."""

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if request.method in ("GET", "HEAD", "OPTIONS") or not _is_json(request.content_type or ""):
            return None
        if _view_attribute(view_func, "guards_own_json"):
            return None
        try:
            body = request.body
        except RequestDataTooBig:
            return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if not body.strip():
            return None
        try:
            jsonguard.loads(body)
        except jsonguard.JsonRefused as exc:
            problem = exc.problem
            return refused(problem.code, problem.message, attr=problem.path, where="")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            detail = (
                _("Invalid JSON at line %(line)d, column %(column)d: %(message)s.")
                % {"line": exc.lineno, "column": exc.colno, "message": exc.msg}
                if isinstance(exc, json.JSONDecodeError)
                else _("The body is not UTF-8 JSON.")
            )
            return errors.error_response(
                400, type="client_error", code="parse_error", detail=detail
            )
        return None
