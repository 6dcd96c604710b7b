"""The pipeline's chunk task in one process: CPU per mention of the worker and of PostgreSQL.

    python benchmarks/pipeline_profile.py [--n 10000] [--chunk 500] [--profile out.prof]
        [--deliver] [--statements]

Creates a benchmark tenant (the demo's queries, terms and alert rules, as ``benchmarks/ingest.py``
does), accepts ``--n`` realistic mentions through ``services.accept_items`` (as the HTTP view
does), then runs ``pipeline.process_chunk`` on every chunk in this process, as the application
role (row-level security on), and reports per mention the CPU time of this process and of its
PostgreSQL backend (``pg_backend_pid``), the load average alongside. The delivery of each
chunk's outbox event (the early-warning subscriber) that the pipeline runs right after its commit
(``outbox.deliver_at_once``) is timed apart and reported as ``deliver_*``, not in the chunk's
figures (``--statements`` still lists its statements with the chunk's); ``--deliver`` also runs
the deliveries left undelivered, as their queued tasks would;
``--statements`` also reports the backend's CPU per mention by statement kind (the first words
of each statement, with the CPU read from ``/proc`` before and after it: the embedded server's
wheel ships neither ``pg_stat_statements`` nor ``auto_explain``); what runs outside Django's
cursor (the COPY into the staging table, the commit) is counted under ``(between statements)``.
The ingest request's own PostgreSQL CPU (``accept_items``: the batch, the chunks with their
items, the queued tasks) is reported as ``accept_postgres_ms_per_mention``, and what the rest of
the server (autovacuum, WAL writer, checkpointer) spent meanwhile as
``server_other_ms_per_mention``. No cluster runs: the queued tasks are removed at the end with
the tenant.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import re
import secrets
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import (
    as_owner,
    drop_tenant,
    load_note,
    log,
    postgres_pid,
    prepare_database,
    setup_django,
    tree_cpu_seconds,
)


def backend_cpu() -> float:
    import psutil
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return float(sum(psutil.Process(pid).cpu_times()[:2]))


def server_cpu() -> float:
    pid = postgres_pid()
    return tree_cpu_seconds(pid) if pid else 0.0


_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_.\"]*")
_KEYWORDS = {"SELECT", "INSERT", "UPDATE", "DELETE", "SET", "SAVEPOINT", "RELEASE", "ROLLBACK"}


def statement_kind(sql: str) -> str:
    """What a statement does and to which table: ``INSERT monitoring_mention``, say."""
    words = _WORDS.findall(sql)
    verb = words[0].upper() if words else "?"
    if verb not in _KEYWORDS:
        return verb
    if verb in {"SET", "SAVEPOINT", "RELEASE", "ROLLBACK"}:
        return verb
    marker = {"SELECT": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE", "DELETE": "FROM"}[verb]
    upper = [w.upper() for w in words]
    start = 1 if verb == "UPDATE" else upper.index(marker) + 1 if marker in upper else len(words)
    table = words[start].strip('"') if start < len(words) else "?"
    return f"{verb} {table}"


class StatementCpu:
    """Backend CPU by statement kind, read before and after every statement Django runs."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.last: float | None = None

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        before = backend_cpu_raw()
        if self.last is not None:
            self.cpu["(between statements)"] += before - self.last
        try:
            return execute(sql, params, many, context)
        finally:
            self.last = backend_cpu_raw()
            kind = statement_kind(sql)
            self.cpu[kind] += self.last - before
            self.calls[kind] += 1

    def close(self) -> None:
        """The statements' run ended: what follows is not theirs."""
        if self.last is not None:
            self.cpu["(between statements)"] += backend_cpu_raw() - self.last
        self.last = None


_backends: dict[int, Any] = {}


def backend_cpu_raw() -> float:
    """``backend_cpu`` without a query (inside Django's cursor): the pid psycopg already knows."""
    import psutil
    from django.db import connection

    pid = connection.connection.info.backend_pid
    if pid not in _backends:
        _backends[pid] = psutil.Process(pid)
    return float(sum(_backends[pid].cpu_times()[:2]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--chunk", type=int, default=None, help="items per chunk (the pipeline's)")
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile", default="", help="write a cProfile of the chunks here")
    ap.add_argument("--deliver", action="store_true", help="also run the outbox deliveries")
    ap.add_argument("--statements", action="store_true", help="backend CPU by statement kind")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    setup_django()
    from django.db import connection

    from benchmarks.ingest import make_tenant
    from monitoring import services, tasks
    from monitoring.demodata import generate
    from monitoring.models import IngestChunk, PipelineEvent
    from tenants import outbox
    from tenants.dbscope import entry_point, tenants
    from tenants.rls import use_role
    from tenants.tasks import deliver_outbox_event

    deliver_at_once = outbox.deliver_at_once

    prepare_database()
    as_owner()
    run = f"p{int(time.time()):x}{secrets.token_hex(2)}"
    tenant, _ = make_tenant(run)
    chunk = args.chunk or services.CHUNK_SIZE
    items = generate(args.n, seed=args.seed, run_id=run, brand="mixed")
    warm = generate(args.warmup, seed=args.seed + 1, run_id=f"{run}w", brand="mixed")
    use_role("application")
    figures: dict = {}
    try:

        def run_batch(
            objects: list,
            profiler: cProfile.Profile | None,
            statements: StatementCpu | None,
            accept_statements: StatementCpu | None = None,
        ) -> dict:
            server0 = server_cpu()
            accept0 = backend_cpu()
            with entry_point(tenants([tenant.pk])):  # as the HTTP view
                if accept_statements:
                    with connection.execute_wrapper(accept_statements):
                        batch = services.accept_items(
                            tenant=tenant, objects=objects, chunk_size=chunk
                        )
                        accept_statements.close()
                else:
                    batch = services.accept_items(tenant=tenant, objects=objects, chunk_size=chunk)
            accept_pg = backend_cpu() - accept0
            with entry_point(tenants([tenant.pk])):
                ids = list(
                    IngestChunk.objects.for_tenant(tenant.pk)
                    .filter(batch=batch)
                    .order_by("index")
                    .values_list("pk", flat=True)
                )
            chunk_cpu = chunk_pg = deliver_cpu = deliver_pg = 0.0
            at_once = {"cpu": 0.0, "pg": 0.0}

            def timed_at_once(*a: Any, **kw: Any) -> Any:
                # the delivery the pipeline runs right after its commit, timed apart
                pg, cpu = backend_cpu(), time.process_time()
                try:
                    return deliver_at_once(*a, **kw)
                finally:
                    at_once["cpu"] += time.process_time() - cpu
                    at_once["pg"] += backend_cpu() - pg

            outbox.deliver_at_once = timed_at_once
            for chunk_id in ids:
                pg0, cpu0 = backend_cpu(), time.process_time()
                if profiler:
                    profiler.enable()
                if statements:
                    with connection.execute_wrapper(statements):
                        tasks.process_chunk(tenant.pk, chunk_id)  # as the worker: its scope
                        statements.close()
                else:
                    tasks.process_chunk(tenant.pk, chunk_id)  # as the worker: the task's scope
                if profiler:
                    profiler.disable()
                cpu1, pg1 = time.process_time(), backend_cpu()
                chunk_cpu += cpu1 - cpu0 - at_once["cpu"]
                chunk_pg += pg1 - pg0 - at_once["pg"]
                deliver_cpu += at_once["cpu"]
                deliver_pg += at_once["pg"]
                at_once["cpu"] = at_once["pg"] = 0.0
                if args.deliver:
                    with entry_point(tenants([tenant.pk])):
                        events = list(
                            PipelineEvent.objects.for_tenant(tenant.pk)
                            .filter(batch_id=batch.pk, delivered_at__isnull=True)
                            .values_list("pk", flat=True)
                        )
                    for event_id in events:
                        deliver_outbox_event("monitoring.pipelineevent", tenant.pk, event_id)
                    cpu2, pg2 = time.process_time(), backend_cpu()
                    deliver_cpu += cpu2 - cpu1
                    deliver_pg += pg2 - pg1
            outbox.deliver_at_once = deliver_at_once
            n = len(objects)
            backends = chunk_pg + deliver_pg + accept_pg
            server = server_cpu() - server0
            return {
                "n": n,
                "chunks": len(ids),
                "chunk_worker_ms_per_mention": round(1000 * chunk_cpu / n, 3),
                "chunk_postgres_ms_per_mention": round(1000 * chunk_pg / n, 3),
                "chunk_mentions_per_cpu_s": round(n / (chunk_cpu + chunk_pg), 1),
                "deliver_worker_ms_per_mention": round(1000 * deliver_cpu / n, 3),
                "deliver_postgres_ms_per_mention": round(1000 * deliver_pg / n, 3),
                "accept_postgres_ms_per_mention": round(1000 * accept_pg / n, 3),
                "server_other_ms_per_mention": round(1000 * (server - backends) / n, 3),
            }

        run_batch(warm, None, None)  # models loaded, caches warm, as in a long-running worker
        load_before = load_note()
        profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall
        statements = StatementCpu() if args.statements else None
        accept_statements = StatementCpu() if args.statements else None
        figures = run_batch(items, profiler, statements, accept_statements)
        for name, measured in (("accept", accept_statements), ("chunk", statements)):
            if measured:
                figures[f"{name}_statements_ms_per_mention"] = {
                    f"{kind} (x{measured.calls.get(kind, 0)})": round(1000 * cpu / args.n, 4)
                    for kind, cpu in sorted(measured.cpu.items(), key=lambda kv: -kv[1])
                }
        figures["load_before"] = load_before
        figures["load_after"] = load_note()
        if profiler:
            profiler.dump_stats(args.profile)
    finally:
        connection.close()
        as_owner()
        if figures:
            log(f"figures: {json.dumps(figures)}")
        if not args.keep:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM django_q_ormq")  # the tasks nobody will run here
            drop_tenant(tenant.pk)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
