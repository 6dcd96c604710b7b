"""The pipeline's chunk task in one process: CPU per mention of the worker and of PostgreSQL.

    python benchmarks/pipeline_profile.py [--n 10000] [--chunk 500] [--profile out.prof]
        [--deliver] [--statements]

Creates a benchmark tenant (the demo's queries, terms and alert rules, as ``benchmarks/ingest.py``
does), accepts ``--n`` realistic mentions through ``services.accept_items`` (as the HTTP view
does), then runs ``pipeline.process_chunk`` on every chunk in this process, as the application
role (row-level security on), and reports per mention the CPU time of this process and of its
PostgreSQL backend (``pg_backend_pid``), the load average alongside. ``--deliver`` also runs
each chunk's outbox delivery (the early-warning subscriber) and reports it apart;
``--statements`` prints the pipeline's statements by their share of PostgreSQL's time
(``pg_stat_statements`` when the server has it loaded, else nothing). No cluster runs: the
queued tasks are removed at the end with the tenant.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import (
    as_owner,
    drop_tenant,
    load_note,
    log,
    prepare_database,
    setup_django,
)


def backend_cpu() -> float:
    import psutil
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return float(sum(psutil.Process(pid).cpu_times()[:2]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--chunk", type=int, default=None, help="items per chunk (the pipeline's)")
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile", default="", help="write a cProfile of the chunks here")
    ap.add_argument("--deliver", action="store_true", help="also run the outbox deliveries")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    setup_django()
    from django.db import connection

    from benchmarks.ingest import make_tenant
    from monitoring import services, tasks
    from monitoring.demodata import generate
    from monitoring.models import IngestChunk, PipelineEvent
    from tenants.dbscope import entry_point, tenants
    from tenants.rls import use_role
    from tenants.tasks import deliver_outbox_event

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

        def run_batch(objects: list, profiler: cProfile.Profile | None) -> dict:
            with entry_point(tenants([tenant.pk])):  # as the HTTP view
                batch = services.accept_items(tenant=tenant, objects=objects, chunk_size=chunk)
                ids = list(
                    IngestChunk.objects.for_tenant(tenant.pk)
                    .filter(batch=batch)
                    .order_by("index")
                    .values_list("pk", flat=True)
                )
            chunk_cpu = chunk_pg = deliver_cpu = deliver_pg = 0.0
            for chunk_id in ids:
                pg0, cpu0 = backend_cpu(), time.process_time()
                if profiler:
                    profiler.enable()
                tasks.process_chunk(tenant.pk, chunk_id)  # as the worker: the task's scope
                if profiler:
                    profiler.disable()
                cpu1, pg1 = time.process_time(), backend_cpu()
                chunk_cpu += cpu1 - cpu0
                chunk_pg += pg1 - pg0
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
            n = len(objects)
            return {
                "n": n,
                "chunks": len(ids),
                "chunk_worker_ms_per_mention": round(1000 * chunk_cpu / n, 3),
                "chunk_postgres_ms_per_mention": round(1000 * chunk_pg / n, 3),
                "chunk_mentions_per_cpu_s": round(n / (chunk_cpu + chunk_pg), 1),
                "deliver_worker_ms_per_mention": round(1000 * deliver_cpu / n, 3),
                "deliver_postgres_ms_per_mention": round(1000 * deliver_pg / n, 3),
            }

        run_batch(warm, None)  # models loaded, caches warm, as in a long-running worker
        load_before = load_note()
        profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall
        figures = run_batch(items, profiler)
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
