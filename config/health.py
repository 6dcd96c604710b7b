"""Liveness and readiness probes (public by design)."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

# A cluster that has not reported for this long counts as gone.
HEARTBEAT_MAX_AGE_S = 60


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def worker_heartbeat() -> dict[str, object]:
    from django_q.status import Stat

    clusters = [s for s in Stat.get_all() if s is not None]
    if not clusters:
        return {"ok": False, "detail": "no task cluster has reported"}
    newest = max(s.timestamp for s in clusters)
    age = (timezone.now() - newest).total_seconds()
    return {
        "ok": age <= HEARTBEAT_MAX_AGE_S,
        "clusters": len(clusters),
        "age_s": round(age, 1),
    }


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
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
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
