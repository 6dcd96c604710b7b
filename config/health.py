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
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from config import errors
from tenants.throttling import ProbeRateThrottle, throttled_message
from tenants.watchdog import stalled

# A cluster that has not reported for this long counts as gone.
HEARTBEAT_MAX_AGE_S = 60
# How long one process reuses its readiness answer.
CACHE_S = 1.0
# Addresses remembered as refused, per process (the map is emptied when it grows past this).
MAX_REMEMBERED_REFUSALS = 10_000


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


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


def throttled(wait_s: float) -> JsonResponse:
    seconds = max(1, round(wait_s))
    response = errors.error_response(
        429, type="client_error", code="throttled", detail=throttled_message(seconds)
    )
    response["Retry-After"] = str(seconds)
    return response


def database_known_down() -> bool:
    last = readiness.last()
    return last is not None and not last[1]["checks"]["database"]["ok"]


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    throttle = ProbeRateThrottle()
    key = throttle.get_cache_key(request, None)
    assert key is not None
    wait = refusals.wait_s(key)
    if wait is not None:
        return throttled(wait)
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
    return JsonResponse(body, status=status)
