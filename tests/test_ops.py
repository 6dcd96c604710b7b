"""Operations: health probes against a real django-q2 cluster, bounded task attempts, request
limits, throttling, the audit trail and structured request logs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config import health
from tenants.models import Tenant
from tenants.throttling import PrincipalRateThrottle, ProbeRateThrottle

ROOT = Path(__file__).resolve().parents[1]


def test_healthz(client: Any) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_503_without_a_worker(client: Any, db: Any) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": True}
    assert response.json()["checks"]["worker"]["ok"] is False


def test_readyz_past_the_probe_rate_answers_429_without_the_database(
    client: Any, db: Any, monkeypatch: Any, django_assert_num_queries: Any
) -> None:
    monkeypatch.setitem(ProbeRateThrottle.THROTTLE_RATES, "probe", "3/min")
    assert [client.get("/readyz").status_code for _ in range(3)] == [503, 503, 503]
    with django_assert_num_queries(0):  # counted in the process: no counter, no checks
        refused = client.get("/readyz")
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert client.get("/readyz", REMOTE_ADDR="198.51.100.4").status_code == 503  # per address


def test_readyz_checks_at_most_once_per_interval_per_process(
    client: Any, db: Any, monkeypatch: Any, django_assert_num_queries: Any
) -> None:
    monkeypatch.setattr(health, "CACHE_S", 60.0)
    with CaptureQueriesContext(connection) as first:
        assert client.get("/readyz").status_code == 503
    assert len(first) > 1  # SELECT 1 and the heartbeat
    with django_assert_num_queries(0):  # the cached answer; the count is in the process
        assert client.get("/readyz").json()["checks"]["worker"]["ok"] is False
    monkeypatch.setattr(health, "CACHE_S", 0.0)
    with CaptureQueriesContext(connection) as expired:
        client.get("/readyz")
    assert len(expired) == len(first)


def database_url_of_tests() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@/{db['NAME']}?host={db['HOST']}&port={db['PORT']}"


def child_env(**env: str) -> dict[str, str]:
    """The environment of a real Sigap process on the test database."""
    environment = {
        **{k: v for k, v in os.environ.items() if k != "Q_CLUSTER_NAME"},
        "DATABASE_URL": database_url_of_tests(),
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        **env,
    }
    return environment


def start_cluster(**env: str) -> subprocess.Popen[bytes]:
    """A real ``manage.py qcluster`` on the test database."""
    environment = child_env(**env)
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_readyz_turns_ready_with_a_live_cluster_and_failures_are_bounded(client: Any) -> None:
    from django_q.models import Failure, OrmQ
    from django_q.tasks import async_task

    cluster = start_cluster(Q_TIMEOUT="2", Q_RETRY="3", Q_MAX_ATTEMPTS="2")
    try:
        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the cluster never reported a heartbeat"
            time.sleep(0.5)
        task_id = async_task("tests.tasks.always_fails", "boom")
        deadline = time.monotonic() + 40
        while not Failure.objects.filter(id=task_id).exists():
            assert time.monotonic() < deadline, "the failing task was never recorded"
            time.sleep(0.5)
        failure = Failure.objects.get(id=task_id)
        assert "boom" in failure.result
        time.sleep(4)  # past one more retry period: nothing is left to retry
        assert failure.attempt_count <= 2
        assert not OrmQ.objects.exists()
    finally:
        stop(cluster)


def test_oversized_bodies_get_413_before_reading(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    body = json.dumps({"email": "a@b.test", "role": "client", "full_name": "x" * (2 * 1024 * 1024)})
    response = api(members["admin"]).post(
        f"/api/v1/tenants/{tenant.slug}/members/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "request_too_large"


def test_throttling_answers_429(
    api: Any, tenant: Any, members: dict[str, Any], monkeypatch: Any
) -> None:
    monkeypatch.setitem(PrincipalRateThrottle.THROTTLE_RATES, "principal", "3/min")
    client = api(members["analyst"])
    statuses = [client.get(f"/api/v1/tenants/{tenant.slug}/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_audit_trail_names_the_token_user(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    api(members["admin"]).patch(
        f"/api/v1/tenants/{tenant.slug}/", {"name": "Kopi Senja Baru"}, format="json"
    )
    entry = LogEntry.objects.get_for_object(Tenant.objects.get(pk=tenant.pk)).latest("timestamp")
    assert entry.actor == members["admin"]
    assert entry.changes_dict["name"] == ["Kopi Senja", "Kopi Senja Baru"]


def test_audit_trail_never_holds_key_hashes(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    body = (
        api(members["admin"])
        .post(f"/api/v1/tenants/{tenant.slug}/api-keys/", {"name": "k"}, format="json")
        .json()
    )
    entries = LogEntry.objects.filter(content_type__model="tenantapikey")
    assert entries.exists()
    dump = json.dumps([e.changes for e in entries])
    assert body["key"] not in dump and "hashed_key" not in dump


def test_request_logs_are_json_without_secrets(
    api: Any, tenant: Any, members: dict[str, Any], caplog: Any
) -> None:
    client = api(members["analyst"])
    secret = client._credentials["HTTP_AUTHORIZATION"].split(" ", 1)[1]
    with caplog.at_level(logging.INFO, logger="sigap.request"):
        client.get(f"/api/v1/tenants/{tenant.slug}/?token=abc")
    record = next(r for r in caplog.records if r.name == "sigap.request")
    assert record.status == 200 and record.path == f"/api/v1/tenants/{tenant.slug}/"
    assert record.tenant == tenant.slug and record.user_id == members["analyst"].pk
    assert secret not in caplog.text
    assert settings.LOGGING["formatters"]["json"]["()"].endswith("JsonFormatter")
