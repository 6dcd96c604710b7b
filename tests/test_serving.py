"""The production server for real: ``manage.py serve`` on a free loopback port against the test
database, started once for this module. It runs gunicorn with ``config/gunicorn.py`` (here one
worker process with four threads and a database pool of ONE connection that waits one second),
the fast task cluster (one worker) and the slow one (one worker).

- it answers ``/healthz``, the admin's CSS (WhiteNoise) and, once the fast cluster reports,
  ``/readyz``;
- a request that finds the pool's only connection busy for longer than ``DB_POOL_TIMEOUT``
  answers 503 with ``Retry-After`` (not a 500), and the server serves normally afterwards;
- a job on the slow cluster does not delay an ingest chunk on the fast one, though the fast
  cluster has a single worker;
- SIGTERM stops the server and both clusters, and the command exits 0.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
from django.core.cache import cache
from django.db import connection

from monitoring import services
from monitoring.models import IngestChunk
from tenants.queues import enqueue_slow
from tests.monitoring.test_pipeline import item
from tests.test_ops import ROOT, child_env

# ``django_db`` on every test, so that pytest-django creates the test database even when only
# one of these tests is selected (the server must never run against the development database).
# Transactional, so that all of them run together in pytest-django's order (one server) and the
# rows the server commits (rate counters) are flushed after each.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SERVE_ENV = {
    "WEB_CONCURRENCY": "1",
    "WEB_THREADS": "4",
    "DB_POOL_MIN": "1",
    "DB_POOL_MAX": "1",
    "DB_POOL_TIMEOUT": "1",
    "Q_WORKERS": "1",
    "Q_SLOW_WORKERS": "1",
    "THROTTLE_RATE_PROBE": "6000/min",  # the tests poll /readyz while the cluster starts
}


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(url: str, *, data: bytes | None = None, timeout: float = 30) -> Answer:
    headers = {"Content-Type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_tree(process: subprocess.Popen[bytes]) -> None:
    """Last resort: SIGKILL whatever is left of a server the tests did not stop."""
    if process.poll() is not None:
        return
    with contextlib.suppress(psutil.NoSuchProcess):
        for child in psutil.Process(process.pid).children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
    process.kill()
    process.wait()


@pytest.fixture(scope="module")
def served(django_db_setup: Any, tmp_path_factory: Any) -> Iterator[Served]:
    assert str(connection.settings_dict["NAME"]).startswith("test_"), "no test database"
    addr = f"127.0.0.1:{free_port()}"
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--addr", addr],
            cwd=ROOT,
            env=child_env(**SERVE_ENV),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Served(process=process, base_url=f"http://{addr}", log=log)
    try:

        def answers() -> bool:
            assert process.poll() is None, f"serve exited early:\n{server.tail()}"
            with contextlib.suppress(OSError):
                return fetch(server.base_url + "/healthz", timeout=2).status == 200
            return False

        wait_for(answers, 180, "the server to answer /healthz")
        yield server
    finally:
        stop_tree(process)


def test_serve_runs_gunicorn_with_static_files_and_the_fast_cluster(served: Served) -> None:
    health = fetch(served.base_url + "/healthz")
    assert health.status == 200 and health.json() == {"status": "ok"}
    assert health.headers.get("Server", "").startswith("gunicorn")
    css = fetch(served.base_url + "/static/admin/css/base.css")
    assert css.status == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert b"body" in css.body
    assert fetch(served.base_url + "/admin/login/").status == 200
    # Ready once the fast cluster has reported its heartbeat.
    wait_for(
        lambda: fetch(served.base_url + "/readyz").status == 200,
        120,
        "the fast cluster's heartbeat",
    )


def test_an_exhausted_database_pool_answers_503_and_the_server_recovers(served: Served) -> None:
    token_url = served.base_url + "/api/v1/auth/tokens/"
    settings = connection.settings_dict
    params = {
        "host": settings["HOST"],
        "port": settings["PORT"],
        "user": settings["USER"],
        "password": settings["PASSWORD"],
        "dbname": settings["NAME"],
    }
    blocker = psycopg.connect(**params)
    # Activity is read outside the blocker's transaction, which would keep one snapshot of it.
    observer = psycopg.connect(**params, autocommit=True)
    holder: dict[str, Answer] = {}
    try:
        # Every request counts its rate limit in this table: locked, the first request waits
        # inside PostgreSQL holding the pool's only connection.
        blocker.execute("LOCK TABLE tenants_ratecounter IN EXCLUSIVE MODE")
        first = threading.Thread(target=lambda: holder.update(answer=fetch(token_url, data=b"{}")))
        first.start()

        def first_is_waiting() -> bool:
            row = observer.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE '%tenants_ratecounter%'"
            ).fetchone()
            return bool(row and row[0])

        wait_for(first_is_waiting, 60, "the first request to hold the connection")
        started = time.monotonic()
        second = fetch(token_url, data=b"{}")
        waited = time.monotonic() - started
    finally:
        blocker.rollback()
        blocker.close()
        observer.close()
    assert second.status == 503, second.body
    body = second.json()
    assert body["type"] == "server_error"
    assert body["errors"][0]["code"] == "unavailable"
    assert body["request_id"] == second.headers["X-Request-Id"]
    assert int(second.headers["Retry-After"]) > 0
    assert waited >= 0.9  # it queued for DB_POOL_TIMEOUT before giving up
    first.join(timeout=60)
    assert holder["answer"].status == 400  # served normally once the connection came free
    assert fetch(token_url, data=b"{}").status == 400  # and the server is healthy afterwards


def test_a_slow_job_does_not_delay_an_ingest_chunk(served: Served, tenant: Any) -> None:
    from django_q.models import Task

    marker = f"slow-{uuid.uuid4().hex}"
    slow_id = enqueue_slow("tests.tasks.slow_job", marker)
    try:
        wait_for(lambda: cache.get(f"{marker}:started"), 120, "the slow job to start")
        batch = services.accept_items(tenant=tenant, objects=[item(n) for n in range(20)])
        chunk = IngestChunk.objects.get(batch=batch)
        # The fast cluster has one worker: had the slow job gone there, the chunk would wait.
        wait_for(
            lambda: IngestChunk.objects.filter(pk=chunk.pk, done_at__isnull=False).exists(),
            90,
            "the ingest chunk while the slow job runs",
        )
        assert not Task.objects.filter(id=slow_id).exists(), "the slow job had already ended"
    finally:
        cache.set(f"{marker}:release", 1, 600)
    wait_for(lambda: Task.objects.filter(id=slow_id).exists(), 60, "the slow job to finish")
    assert Task.objects.get(id=slow_id).cluster == "slow"
    assert Task.objects.get(name=f"chunk-{chunk.pk}").cluster == "sigap"


def test_serve_stops_the_server_and_both_clusters_on_sigterm(served: Served) -> None:
    children = psutil.Process(served.process.pid).children(recursive=True)
    names = " ".join(" ".join(child.cmdline()) for child in children)
    assert "gunicorn" in names and names.count("qcluster") >= 2
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=60) == 0, served.tail()
    assert "Sigap stopped." in served.tail()
    wait_for(lambda: not any(child.is_running() for child in children), 10, "the children")
