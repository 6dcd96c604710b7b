"""What the served application answers before Django: probes and remembered refusals.

``EdgeApplication`` wraps Django's WSGI application (``config/wsgi.py``; gunicorn serves it) and
answers two kinds of request itself, before any ``HttpRequest`` is built, any middleware or
request signal runs or any credential is checked:

- ``GET /healthz`` and ``GET /readyz`` (``config.health``: the readiness checks cached per
  process, the probe rate limit per client IP with its refusals remembered);
- a REST request whose ``Authorization`` header this process refused with the principal rate
  limit and whose window has not ended (``tenants.throttling.refused_credentials``), to a view
  that limit applies to: the 429 DRF gives (its body, ``Retry-After``), now before the token is
  even looked up. Within a refused window the answer could not be anything else for a caller
  with a valid credential; a credential revoked meanwhile is told 429 rather than 401 until the
  window ends.

Everything else goes to Django unchanged. So a flood of probes, or of requests by a caller past
its limit, costs each web process gunicorn's own work and a few dictionary look-ups per request
(about a quarter of a millisecond on the benchmark machine, against half a millisecond for a
probe through Django and about five for a refused REST request), and the signed-in callers
sharing the process keep their latency (``benchmarks/burst.py``). An early answer keeps what
``RequestLogMiddleware`` gives every request: its ``X-Request-Id``, the request id on every log
record written meanwhile, one ``sigap.request`` log line when INFO is on, and the API's 500 body
if answering failed.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from types import SimpleNamespace
from typing import Any

from django.urls import Resolver404, resolve
from rest_framework import exceptions

from config import errors
from config.request_context import (
    current_request_id,
    log_request,
    request_id_for,
    request_log_enabled,
)
from tenants.network import client_ip
from tenants.throttling import PrincipalRateThrottle, refused_credential_wait

# Set in the WSGI environ of a request answered here (config/gunicorn.py reads it).
ANSWERED_EARLY = "sigap.answered_early"

StartResponse = Callable[..., Any]
WSGIApplication = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Answer:
    """A JSON answer given outside Django's views; ``error``: the body has the API's error shape
    (``config.errors``)."""

    status: int
    body: dict[str, Any]
    retry_after_s: int | None = None
    error: bool = False


@lru_cache(maxsize=1024)
def principal_limited(path: str) -> bool:
    """Whether the REST view at ``path`` counts ``PrincipalRateThrottle`` (its class's or its
    action's ``throttle_classes``)."""
    try:
        match = resolve(path)
    except Resolver404:
        return False
    view_class = getattr(match.func, "cls", None)
    if view_class is None:
        return False
    initkwargs = getattr(match.func, "initkwargs", None) or {}
    classes = initkwargs.get("throttle_classes", view_class.throttle_classes)
    return any(issubclass(throttle, PrincipalRateThrottle) for throttle in classes)


def refused_principal(environ: dict[str, Any]) -> Answer | None:
    """DRF's 429 for a remembered over-limit credential calling a principal-limited view."""
    authorization = environ.get("HTTP_AUTHORIZATION")
    if not authorization:
        return None
    wait = refused_credential_wait(authorization)
    if wait is None or not principal_limited(environ.get("PATH_INFO", "")):
        return None
    seconds = max(1, math.ceil(wait))
    refusal = exceptions.Throttled(wait=seconds)
    body = errors.error_body(
        type="client_error", code=refusal.default_code, detail=str(refusal.detail)
    )
    return Answer(429, body, retry_after_s=seconds, error=True)


class EdgeApplication:
    """The served WSGI application: probes and remembered refusals answered here, every other
    request handed to Django's ``application``."""

    def __init__(self, application: WSGIApplication) -> None:
        from config import health

        self.application = application
        self.probes: dict[str, Callable[[dict[str, Any]], Answer]] = {
            "/healthz": lambda environ: health.health_answer(),
            "/readyz": lambda environ: health.readiness_answer(
                environ, database=health.request_database
            ),
        }

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        probe = self.probes.get(environ.get("PATH_INFO", ""))
        if probe is not None and environ.get("REQUEST_METHOD") == "GET":
            return self.answer(probe, environ, start_response)
        if environ.get("HTTP_AUTHORIZATION"):
            refusal = refused_principal(environ)
            if refusal is not None:
                return self.answer(lambda environ: refusal, environ, start_response)
        return self.application(environ, start_response)

    @staticmethod
    def answer(
        make: Callable[[dict[str, Any]], Answer],
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        environ[ANSWERED_EARLY] = True
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        token = current_request_id.set(request_id)
        try:
            try:
                answer = make(environ)
            except Exception:  # noqa: BLE001 - answered as any other request's failure is
                errors.logger.exception(
                    "unhandled exception on %s %s",
                    environ.get("REQUEST_METHOD"),
                    environ.get("PATH_INFO"),
                    extra={"request_id": request_id},
                )
                answer = Answer(500, errors.server_error_body(request_id), error=True)
            if request_log_enabled():
                log_request(
                    request_id=request_id,
                    method=environ.get("REQUEST_METHOD"),
                    path=environ.get("PATH_INFO", ""),
                    status=answer.status,
                    started=started,
                    user_id=None,
                    tenant=None,
                    client_ip=client_ip(SimpleNamespace(META=environ)),
                )
        finally:
            current_request_id.reset(token)
        content = json.dumps(answer.body).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(content))),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Request-Id", request_id),
        ]
        if answer.retry_after_s is not None:
            headers.append(("Retry-After", str(answer.retry_after_s)))
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", headers)
        return [content]
