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
- a client that never closes its side of a finished connection does not stall the worker (its
  close lingers in the event loop), and new connections are admitted at ``WEB_ACCEPT_RATE``;
- SIGTERM stops the server and both clusters, and the command exits 0.

The served WSGI application itself (``config.wsgi.application``, ``config.edge``) is called here
in-process, as gunicorn calls it: probes and a remembered over-limit caller are answered before
Django (no request signal), with the API's error shape and no database work.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import wsgiref.util
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import psycopg
import pytest
from django.core.cache import cache
from django.core.signals import request_started
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config import health
from config.edge import ANSWERED_EARLY
from monitoring import services
from monitoring.models import IngestChunk
from tenants.queues import enqueue_slow
from tenants.throttling import AtomicRateThrottle, ProbeRateThrottle, refused_credential_wait
from tests.conftest import token_for
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
    "WEB_ACCEPT_RATE": "40",  # low, for the admission test; each other test opens a few
    "SIGAP_TEST_LOG_LEVEL": "INFO",  # the request lines, as in production
}


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path  # standard output: what ``serve`` says
    errors: Path  # standard error: the log stream (JSON lines only)

    def tail(self) -> str:
        said = self.log.read_text(errors="replace")[-1500:]
        return said + "\n--- log stream ---\n" + self.errors.read_text(errors="replace")[-3000:]


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
    folder = tmp_path_factory.mktemp("serve")
    log, log_stream = folder / "serve.out", folder / "serve.err"
    with log.open("wb") as out, log_stream.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--addr", addr],
            cwd=ROOT,
            env=child_env(**SERVE_ENV),
            stdout=out,
            stderr=err,
        )
    server = Served(process=process, base_url=f"http://{addr}", log=log, errors=log_stream)
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


def test_a_client_that_never_closes_does_not_stall_the_worker(served: Served) -> None:
    host, port = served.base_url.removeprefix("http://").split(":")
    kept = http.client.HTTPConnection(host, int(port), timeout=30)
    held = []
    try:
        kept.request("GET", "/healthz")
        assert kept.getresponse().read() == b'{"status": "ok"}'
        for _ in range(5):  # each asks to close after its answer, then neither reads nor closes
            peer = socket.create_connection((host, int(port)))
            peer.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            held.append(peer)
        time.sleep(0.2)
        started = time.monotonic()
        for _ in range(3):
            kept.request("GET", "/healthz")
            assert kept.getresponse().read() == b'{"status": "ok"}'
        # The one worker's event loop stayed free: gunicorn's own close waited two seconds on
        # each of the five, in turn, before it turned to this connection.
        assert time.monotonic() - started < 2.0
    finally:
        kept.close()
        for peer in held:
            peer.close()


def test_new_connections_are_admitted_at_the_accept_rate(served: Served) -> None:
    time.sleep(1.0)  # a full allowance (ACCEPT_BURST) again
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: fetch(served.base_url + "/healthz").status, range(60)))
    waited = time.monotonic() - started
    assert answers == [200] * 60  # all answered: the rest waited in the listen backlog
    # 20 at once, then 40 a second (SERVE_ENV): at least (60 - 20) / 40 s for the last one.
    assert waited >= 0.9


# README "Configuration" (LOG_LEVEL): one JSON line per request with these fields, nothing else.
REQUEST_LINE = {
    "asctime",
    "levelname",
    "name",
    "message",
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "user_id",
    "tenant",
    "client_ip",
}


def test_the_log_stream_holds_the_documented_json_lines_only(served: Served) -> None:
    marker = uuid.uuid4().hex
    paths = [f"/api/v1/me/?{marker}", f"/no-such-page-{marker}/", "/api/v1/auth/tokens/"]
    for path in paths:
        fetch(served.base_url + path)
    fetch(served.base_url + "/api/v1/auth/tokens/", data=b'{"email": "x@y.test"}')

    def logged() -> list[dict[str, Any]]:
        lines = served.errors.read_text().splitlines()
        records = []
        for line in lines:
            record = json.loads(line)  # every line of the stream is a JSON object
            assert isinstance(record, dict), line
            assert {"asctime", "levelname", "name", "message"} <= set(record), line
            records.append(record)
        return records

    def requests() -> list[dict[str, Any]]:
        return [r for r in logged() if r["name"] == "sigap.request" and r["message"] == "request"]

    wait_for(lambda: len(requests()) >= 4, 10, "the request lines")
    for record in requests():
        assert set(record) == REQUEST_LINE, record
        assert record["levelname"] == "INFO"
        assert marker not in json.dumps(record) or record["path"].startswith("/no-such-page")
    statuses = {record["path"]: record["status"] for record in requests()}
    assert statuses["/api/v1/me/"] == 401  # the path only: no query string
    assert statuses[f"/no-such-page-{marker}/"] == 404
    assert statuses["/api/v1/auth/tokens/"] == 400


def test_serve_stops_the_server_and_both_clusters_on_sigterm(served: Served) -> None:
    children = psutil.Process(served.process.pid).children(recursive=True)
    names = " ".join(" ".join(child.cmdline()) for child in children)
    assert "gunicorn" in names and names.count("qcluster") >= 2
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=60) == 0, served.tail()
    assert "Sigap stopped." in served.tail()
    wait_for(lambda: not any(child.is_running() for child in children), 10, "the children")


# --- the served WSGI application, in-process ---------------------------------------------------


def wsgi_call(
    path: str, *, method: str = "GET", remote: str = "127.0.0.1", **headers: str
) -> tuple[Answer, dict[str, Any]]:
    """``config.wsgi.application`` called as gunicorn calls it: the answer and the environ."""
    from config.wsgi import application

    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "REMOTE_ADDR": remote,
        "HTTP_HOST": "testserver",
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    wsgiref.util.setup_testing_defaults(environ)
    started: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], *args: Any) -> Any:
        started.update(status=int(status.split()[0]), headers=dict(response_headers))
        return lambda data: None

    body = b"".join(application(environ, start_response))
    return Answer(started["status"], started["headers"], body), environ


@contextlib.contextmanager
def django_requests() -> Iterator[list[object]]:
    """The requests Django's handler began meanwhile (its ``request_started`` signal)."""
    seen: list[object] = []

    def note(sender: object, **kwargs: Any) -> None:
        seen.append(sender)

    request_started.connect(note)
    try:
        yield seen
    finally:
        request_started.disconnect(note)


def test_probes_are_answered_before_django() -> None:
    with django_requests() as seen:
        health, environ = wsgi_call("/healthz", x_request_id="probe-1")
        ready, _ = wsgi_call("/readyz")
    assert seen == []
    assert health.status == 200 and health.json() == {"status": "ok"}
    assert health.headers["X-Request-Id"] == "probe-1"
    assert health.headers["Content-Type"] == "application/json"
    assert environ[ANSWERED_EARLY] is True  # not counted towards gunicorn's max_requests
    assert ready.status in (200, 503)  # with or without a task cluster's fresh heartbeat
    assert ready.json()["checks"]["database"] == {"ok": True}
    assert len(ready.headers["X-Request-Id"]) == 32
    with django_requests() as seen:
        posted, environ = wsgi_call("/readyz", method="POST")
    assert posted.status == 405 and len(seen) == 1  # other methods are Django's
    assert ANSWERED_EARLY not in environ


def test_readyz_touches_the_database_once_per_interval_and_never_to_count(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(health, "CACHE_S", 60.0)
    monkeypatch.setitem(ProbeRateThrottle.THROTTLE_RATES, "probe", "4/min")
    with CaptureQueriesContext(connection) as first:
        assert wsgi_call("/readyz", remote="203.0.113.9")[0].status in (200, 503)
    assert len(first) > 1  # SELECT 1 and the heartbeat
    for _ in range(3):
        with CaptureQueriesContext(connection) as again:
            assert wsgi_call("/readyz", remote="203.0.113.9")[0].status in (200, 503)
        assert len(again) == 0  # the cached checks; the count is kept in the process
    with CaptureQueriesContext(connection) as over:
        refused, _ = wsgi_call("/readyz", remote="203.0.113.9")
    assert len(over) == 0
    assert refused.status == 429
    assert refused.json() == {
        "type": "client_error",
        "errors": [
            {"code": "throttled", "detail": refused.json()["errors"][0]["detail"], "attr": None}
        ],
    }
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert wsgi_call("/readyz", remote="203.0.113.10")[0].status != 429  # its own limit


def test_a_caller_past_its_limit_is_refused_before_django_until_the_window_ends(
    monkeypatch: Any, tenant: Any, members: Any
) -> None:
    from tenants.models import RateCounter

    monkeypatch.setitem(AtomicRateThrottle.THROTTLE_RATES, "principal", "2/min")
    mentions = f"/api/v1/tenants/{tenant.slug}/mentions/"
    noisy = f"Bearer {token_for(members['analyst'])}"
    with django_requests() as seen:
        answers = [wsgi_call(mentions, authorization=noisy)[0] for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 429] and len(seen) == 3  # the real limit
    with django_requests() as seen, CaptureQueriesContext(connection) as queries:
        refused, environ = wsgi_call(mentions, authorization=noisy)
    assert refused.status == 429 and seen == [] and len(queries) == 0
    assert environ[ANSWERED_EARLY] is True
    assert refused.json() == answers[2].json()  # DRF's own refusal, word for word
    assert refused.json()["errors"][0]["code"] == "throttled"
    # Remembered until the counter's window ends, not longer.
    window = RateCounter.objects.get(key=f"throttle_principal_user:{members['analyst'].pk}")
    left = (window.window_ends_at - timezone.now()).total_seconds()
    remembered = refused_credential_wait(noisy)
    assert remembered is not None and abs(remembered - left) < 1.0
    assert int(refused.headers["Retry-After"]) == math.ceil(remembered)
    # Another caller keeps its budget; a view the principal limit does not count (GraphQL
    # counts it itself) is Django's to answer.
    assert (
        wsgi_call(mentions, authorization=f"Bearer {token_for(members['admin'])}")[0].status == 200
    )
    with django_requests() as seen:
        wsgi_call("/graphql/", method="POST", authorization=noisy)
    assert len(seen) == 1


@pytest.fixture
def gunicorn_hooks() -> Iterator[dict[str, Any]]:
    """``config/gunicorn.py``'s hooks. Loading it sets the server's environment (the database
    pool on, ...): this process's is put back afterwards, for the clusters later tests start."""
    saved = dict(os.environ)
    try:
        yield runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_gunicorn_does_not_count_requests_answered_early(gunicorn_hooks: dict[str, Any]) -> None:
    worker = SimpleNamespace(nr=10)
    gunicorn_hooks["post_request"](worker, None, {ANSWERED_EARLY: True}, None)
    gunicorn_hooks["post_request"](worker, None, {}, None)
    assert worker.nr == 9


def test_each_worker_takes_its_share_of_the_probe_rate(
    gunicorn_hooks: dict[str, Any], monkeypatch: Any
) -> None:
    monkeypatch.setitem(ProbeRateThrottle.THROTTLE_RATES, "probe", "6/min")
    gunicorn_hooks["post_fork"](SimpleNamespace(cfg=SimpleNamespace(workers=3)), None)  # -w 3
    answers = [wsgi_call("/readyz", remote="203.0.113.20")[0].status for _ in range(3)]
    assert answers[:2] != [429, 429] and answers[2] == 429  # 6 a minute over 3 processes
