"""Liveness and readiness probes (public by design), cheap under a flood.

- ``/healthz`` says the process answers; it touches nothing else.
- ``/readyz`` says the database answers and the fast task cluster (the default django-q2 cluster,
  which runs ingest and alerting) reported a heartbeat in the last ``HEARTBEAT_MAX_AGE_S``
  seconds and is not stalled (``tenants.watchdog.stalled``: work has waited ``Q_STALL_SECONDS``
  with no task ending; the worker check then says ``"detail": "workers_stalled"``, at most two
  small queries): 200 when all hold, 503 otherwise. The checks run at most once per ``CACHE_S``
  seconds per process; meanwhile every caller gets the last answer (a thread that finds another
  one checking does not wait for it). Every caller is counted per client IP by the atomic
  ``probe`` throttle (``THROTTLE_RATE_PROBE``): over the limit the answer is 429 with
  ``Retry-After``, and the process then remembers the refusal until the window ends, so a flood
  of refused probes costs no database work at all. When the database itself is down the probe
  is not counted (the count would need the database) and answers the cached 503.

Both are answered twice over: ``ProbeApplication`` wraps the WSGI application that gunicorn
serves (``config/wsgi.py``) and answers ``GET /healthz`` and ``GET /readyz`` before Django's
handler is entered (no ``HttpRequest``, no middleware, no signals): a refused probe costs a
dictionary look-up and a few bytes written, so a flood takes little from the signed-in requests
sharing the process. The views below answer the same (``health_answer``, ``readiness_answer``)
where that wrapper is not in front (Django's test client, another method than GET, which they
refuse with 405).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from http import HTTPStatus
from types import SimpleNamespace
from typing import Any

from django.db import close_old_connections, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from config import errors
from config.request_context import (
    current_request_id,
    log_request,
    request_id_for,
    request_log_enabled,
)
from tenants.network import client_ip
from tenants.throttling import ProbeRateThrottle, throttled_message
from tenants.watchdog import stalled

# A cluster that has not reported for this long counts as gone.
HEARTBEAT_MAX_AGE_S = 60
# How long one process reuses its readiness answer.
CACHE_S = 1.0
# Addresses remembered as refused, per process (the map is emptied when it grows past this).
MAX_REMEMBERED_REFUSALS = 10_000


def worker_heartbeat() -> dict[str, object]:
    """The fast cluster's heartbeat (the slow cluster reports under its own cache prefix)."""
    from django_q.brokers import get_broker
    from django_q.status import Stat

    from tenants.queues import fast_cluster

    clusters = [s for s in Stat.get_all(broker=get_broker(fast_cluster())) if s is not None]
    if not clusters:
        return {"ok": False, "detail": "no task cluster has reported"}
    newest = max(s.timestamp for s in clusters)
    age = (timezone.now() - newest).total_seconds()
    answer: dict[str, object] = {
        "ok": age <= HEARTBEAT_MAX_AGE_S,
        "clusters": len(clusters),
        "age_s": round(age, 1),
    }
    if answer["ok"] and stalled():
        # A fresh heartbeat with no progress: the cluster is wedged (see tenants/watchdog.py).
        answer.update(ok=False, detail="workers_stalled")
    return answer


def check_readiness() -> tuple[int, dict[str, Any]]:
    """Runs the checks: (status, body)."""
    checks: dict[str, dict[str, object]] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any database failure means not ready
        checks["database"] = {"ok": False, "detail": exc.__class__.__name__}
    try:
        checks["worker"] = worker_heartbeat()
    except Exception as exc:  # noqa: BLE001 - the cache may be the thing that is down
        checks["worker"] = {"ok": False, "detail": exc.__class__.__name__}
    ready = all(bool(check["ok"]) for check in checks.values())
    return (200 if ready else 503), {
        "status": "ready" if ready else "unavailable",
        "checks": checks,
    }


class ReadinessCache:
    """The last readiness answer of this process, recomputed by one thread at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answer: tuple[float, int, dict[str, Any]] | None = None

    def clear(self) -> None:
        self._answer = None

    def last(self) -> tuple[int, dict[str, Any]] | None:
        answer = self._answer
        return None if answer is None else (answer[1], answer[2])

    def get(self) -> tuple[int, dict[str, Any]]:
        answer = self._answer
        if answer is not None and time.monotonic() - answer[0] < CACHE_S:
            return answer[1], answer[2]
        # The first answer is waited for; later ones are served stale while one thread checks.
        if not self._lock.acquire(blocking=answer is None):
            assert answer is not None
            return answer[1], answer[2]
        try:
            answer = self._answer
            if answer is None or time.monotonic() - answer[0] >= CACHE_S:
                status, body = check_readiness()
                answer = (time.monotonic(), status, body)
                self._answer = answer
            return answer[1], answer[2]
        finally:
            self._lock.release()


class RefusalMemo:
    """Throttle keys refused in this process, until their window ends."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def clear(self) -> None:
        self._until.clear()

    def wait_s(self, key: str) -> float | None:
        until = self._until.get(key)
        if until is None:
            return None
        left = until - time.monotonic()
        if left <= 0:
            self._until.pop(key, None)
            return None
        return left

    def remember(self, key: str, seconds: float) -> None:
        if len(self._until) >= MAX_REMEMBERED_REFUSALS:
            self._until.clear()
        self._until[key] = time.monotonic() + seconds


readiness = ReadinessCache()
refusals = RefusalMemo()


@dataclass(frozen=True)
class ProbeAnswer:
    """What a probe answers, whichever layer sends it; ``error``: the body has the API's error
    shape (``config.errors``)."""

    status: int
    body: dict[str, Any]
    retry_after_s: int | None = None
    error: bool = False


HEALTHY = ProbeAnswer(200, {"status": "ok"})


def health_answer() -> ProbeAnswer:
    return HEALTHY


def throttled(wait_s: float) -> ProbeAnswer:
    seconds = max(1, round(wait_s))
    body = errors.error_body(
        type="client_error", code="throttled", detail=throttled_message(seconds)
    )
    return ProbeAnswer(429, body, retry_after_s=seconds, error=True)


def database_known_down() -> bool:
    last = readiness.last()
    return last is not None and not last[1]["checks"]["database"]["ok"]


def readiness_answer(
    meta: Mapping[str, Any],
    database: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> ProbeAnswer:
    """``/readyz`` for a caller whose request metadata is ``meta`` (Django's ``request.META``,
    which is the WSGI environ): counted per client IP, then the process's cached checks. A
    refusal this process remembers is answered without the database; the rest runs inside
    ``database()``."""
    throttle = ProbeRateThrottle()
    key = throttle.get_cache_key(SimpleNamespace(META=meta), None)
    assert key is not None
    wait = refusals.wait_s(key)
    if wait is not None:
        return throttled(wait)
    with database():
        if not database_known_down():
            try:
                allowed = throttle.allow_key(key)
            except Exception:  # noqa: BLE001 - the database is what the probe reports on
                allowed = True
            if not allowed:
                seconds = throttle.wait() or 1.0
                refusals.remember(key, seconds)
                return throttled(seconds)
        status, body = readiness.get()
    return ProbeAnswer(status, body)


@contextlib.contextmanager
def request_database() -> Iterator[None]:
    """What Django's ``request_started`` and ``request_finished`` do to the database around a
    request, for work done outside its handler: a pooled connection goes back to the pool after
    (a persistent one is kept while it is healthy and young)."""
    close_old_connections()
    try:
        yield
    finally:
        close_old_connections()


def as_response(answer: ProbeAnswer) -> JsonResponse:
    if answer.error:
        response = errors.error_json(answer.status, answer.body)
    else:
        response = JsonResponse(answer.body, status=answer.status)
    if answer.retry_after_s is not None:
        response["Retry-After"] = str(answer.retry_after_s)
    return response


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return as_response(health_answer())


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    return as_response(readiness_answer(request.META))


# --- before Django: the WSGI layer --------------------------------------------------------------

StartResponse = Callable[..., Any]
WSGIApplication = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ProbeApplication:
    """The served WSGI application: ``GET /healthz`` and ``GET /readyz`` answered here, every
    other request handed to Django's (``application``).

    A probe keeps what ``RequestLogMiddleware`` gives every request (its ``X-Request-Id``, the
    request id on every log record written meanwhile, one ``sigap.request`` log line when INFO
    is on, the API's 500 body if the probe itself fails) and skips the rest. The database is
    reached only by ``readiness_answer`` (the rate counter, the cached checks), between the two
    ``close_old_connections`` Django's request signals would run, so a pooled connection goes
    back to the pool as after any request."""

    def __init__(self, application: WSGIApplication) -> None:
        self.application = application
        self.probes: dict[str, Callable[[dict[str, Any]], ProbeAnswer]] = {
            "/healthz": lambda environ: health_answer(),
            "/readyz": self._readiness,
        }

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        probe = self.probes.get(environ.get("PATH_INFO", ""))
        if probe is None or environ.get("REQUEST_METHOD") != "GET":
            return self.application(environ, start_response)
        started = time.perf_counter()
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        token = current_request_id.set(request_id)
        try:
            try:
                answer = probe(environ)
            except Exception:  # noqa: BLE001 - answered as any other request's failure is
                errors.logger.exception(
                    "unhandled exception on GET %s",
                    environ.get("PATH_INFO"),
                    extra={"request_id": request_id},
                )
                answer = ProbeAnswer(500, errors.server_error_body(request_id), error=True)
            if request_log_enabled():
                log_request(
                    request_id=request_id,
                    method="GET",
                    path=environ["PATH_INFO"],
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

    @staticmethod
    def _readiness(environ: dict[str, Any]) -> ProbeAnswer:
        return readiness_answer(environ, database=request_database)
