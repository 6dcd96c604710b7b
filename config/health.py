"""Liveness and readiness probes (public by design), cheap under a flood.

- ``/healthz`` says the process answers; it touches nothing else.
- ``/readyz`` says the database answers and the fast task cluster (the default django-q2 cluster,
  which runs ingest and alerting) reported a heartbeat in the last ``HEARTBEAT_MAX_AGE_S``
  seconds and is not stalled (``tenants.watchdog.stalled``: work has waited ``Q_STALL_SECONDS``
  with no task ending; the worker check then says ``"detail": "workers_stalled"``, at most two
  small queries): 200 when all hold, 503 otherwise. The checks run at most once per ``CACHE_S``
  seconds per process; meanwhile every caller gets the last answer (a thread that finds another
  one checking does not wait for it). Every caller is counted per client IP by the ``probe``
  throttle (``THROTTLE_RATE_PROBE``), in the process (each web process its share of the rate,
  ``tenants.throttling.ProbeRateThrottle``): over the limit the answer is 429 with
  ``Retry-After``. So a probe touches the database only when its process's cached answer is
  older than ``CACHE_S``, and a flood of probes costs no database work beyond that.

The served application answers ``GET /healthz`` and ``GET /readyz`` before Django
(``config.edge``: no ``HttpRequest``, middleware or signals), so a flood of probes takes little
from the signed-in requests sharing the process; the views below give the same answers
(``health_answer``, ``readiness_answer``) where that layer is not in front (Django's test
client) and refuse other methods with 405.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from types import SimpleNamespace
from typing import Any

from django.db import close_old_connections, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from config import errors
from config.edge import Answer
from tenants.throttling import ProbeRateThrottle, throttled_message
from tenants.watchdog import stalled

# A cluster that has not reported for this long counts as gone.
HEARTBEAT_MAX_AGE_S = 60
# How long one process reuses its readiness answer.
CACHE_S = 1.0


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


readiness = ReadinessCache()


HEALTHY = Answer(200, {"status": "ok"})


def health_answer() -> Answer:
    return HEALTHY


def throttled(wait_s: float) -> Answer:
    seconds = max(1, math.ceil(wait_s))
    body = errors.error_body(
        type="client_error", code="throttled", detail=throttled_message(seconds)
    )
    return Answer(429, body, retry_after_s=seconds, error=True)


def readiness_answer(
    meta: Mapping[str, Any],
    database: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> Answer:
    """``/readyz`` for a caller whose request metadata is ``meta`` (Django's ``request.META``,
    which is the WSGI environ): counted per client IP in the process, then the process's cached
    checks, which run inside ``database()``."""
    throttle = ProbeRateThrottle()
    key = throttle.get_cache_key(SimpleNamespace(META=meta), None)
    assert key is not None
    if not throttle.allow_key(key):
        return throttled(throttle.window_left_s or 1.0)
    with database():
        status, body = readiness.get()
    return Answer(status, body)


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


def as_response(answer: Answer) -> JsonResponse:
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
