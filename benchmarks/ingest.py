"""End-to-end ingest benchmark: HTTP ingest endpoint -> django-q2 cluster -> scored rows.

    python benchmarks/ingest.py [--n 100000] [--rate MENTIONS_PER_S] [--batch ITEMS]

Starts what it needs itself, as ``make run`` would: the embedded PostgreSQL (unless
``DATABASE_URL`` is set; migrations applied), the production HTTP server (gunicorn with
``config/gunicorn.py``) and the task cluster (``qcluster``, workers from
``Q_CLUSTER``/``Q_WORKERS``). Creates a fresh tenant
with the demo queries and terms and an API key, warms the workers up (each loads the scorer
once, as a long-running cluster has), then POSTs ``--n`` distinct realistic mentions
(``benchmarks/data.py``) to ``/api/v1/tenants/{slug}/ingest/`` and waits until every chunk is
processed by the production pipeline (real scorer, real matcher, COPY + upsert, rollups).

Figures:

* ``mentions_per_s``: n / (last chunk committed - first request sent). Unthrottled unless
  ``--rate`` is given; with ``--rate`` it is bounded by the offered load.
* ``p50_delay_s`` / ``p95_delay_s``: per mention, ``scored_at`` minus the moment its request got
  the 202 (joined in SQL through the batch id). ``scored_at`` is the pipeline transaction's
  ``now()``, i.e. when its chunk started; ``p95_visible_delay_s`` uses the chunk's ``done_at``
  (just before commit) instead: when the row becomes visible.
* ``lost``: sent ids without a row; ``duplicated``: ids with more than one row; both counted in
  SQL over this run's ids.
* ``scorer_texts_per_cpu_s``: the scorer's own single-core rate, measured in the same run before
  the services start: the whole scorer on (up to ``--scorer-sample``) of this run's items with
  the tenant's extensions, in chunks as the pipeline sends them, per second of this process's
  CPU time. ``scoring_bound_per_s`` is that rate times the cores (``os.cpu_count()``, at most
  the workers): what the machine could score if it did nothing else; ``ratio_to_scoring_bound``
  is ``mentions_per_s`` over it (the share of the machine's scoring capacity the whole
  pipeline reaches end to end).
* ``mentions_per_cpu_s``: n over the CPU seconds the run cost the web server, the cluster (with
  its workers) and PostgreSQL; ``cpu_ratio_to_scoring_bound`` is that over the scorer's rate:
  the same ratio by CPU time, which holds when other work shares the cores (on a quiet machine
  with the cores busy the two ratios meet).

Progress goes to stderr; the last line of stdout is one JSON object. Ctrl-C, SIGTERM, errors
and ``--timeout`` stop the server and the cluster. The benchmark tenant is deleted at the end
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import (
    Services,
    as_owner,
    drop_tenant,
    load_note,
    log,
    percentile,
    postgres_pid,
    prepare_database,
    setup_django,
    sigterm_as_interrupt,
    tree_cpu_seconds,
)


@dataclass
class Sent:
    batch_id: int
    accepted: int
    sent_at: float  # wall clock (time.time()) when the request started
    answered_at: float  # wall clock when the 202 arrived


class Client:
    """POSTs pre-encoded JSON bodies; one connection per thread (keep-alive when possible)."""

    def __init__(self, base_url: str, path: str, key: str) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.host, self.port, self.path = host, int(port), path
        self.headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
        self.local = threading.local()

    def post(self, body: bytes) -> Sent:
        for attempt in range(3):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=120
                )
            sent_at = time.time()
            try:
                conn.request("POST", self.path, body=body, headers=self.headers)
                response = conn.getresponse()
                payload = response.read()
            except (http.client.HTTPException, ConnectionError) as exc:
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
                log(f"request failed ({exc!r}); new connection")
                continue
            answered_at = time.time()
            if response.getheader("Connection", "").lower() == "close" or response.version < 11:
                conn.close()
                self.local.conn = None
            if response.status != 202:
                raise RuntimeError(f"ingest answered {response.status}: {payload[:500]!r}")
            data = json.loads(payload)
            if data["rejected"]:
                raise RuntimeError(f"items rejected: {data['rejected'][:3]}")
            return Sent(data["batch_id"], data["accepted"], sent_at, answered_at)
        raise AssertionError("unreachable")


def make_tenant(run: str) -> tuple[Any, str]:
    from monitoring.demo import ensure_setup
    from tenants.models import Agency
    from tenants.services import create_api_key, create_tenant

    agency, _ = Agency.objects.get_or_create(slug="sigap-bench", defaults={"name": "Benchmarks"})
    tenant = create_tenant(agency=agency, slug=f"bench-{run}", name=f"Ingest benchmark {run}")
    ensure_setup(tenant)  # the demo's monitored queries, tracked terms and domains
    _, key = create_api_key(tenant=tenant, name="ingest benchmark")
    return tenant, key


def pending_chunks(batch_ids: list[int]) -> tuple[int, int]:
    """(chunks not done yet, batches failed) among ``batch_ids``."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT (SELECT count(*) FROM monitoring_ingestchunk
                       WHERE batch_id = ANY(%s) AND done_at IS NULL),
                      (SELECT count(*) FROM monitoring_ingestbatch
                       WHERE id = ANY(%s) AND status = 'failed')""",
            [batch_ids, batch_ids],
        )
        pending, failed = cursor.fetchone()
    return int(pending), int(failed)


def wait_processed(
    batch_ids: list[int], services: Services, deadline: float, progress: bool = True
) -> bool:
    last_report = 0.0
    while True:
        pending, failed = pending_chunks(batch_ids)
        if pending == 0:
            return True
        if failed:
            log(f"{failed} batches failed")
            return False
        if time.monotonic() > deadline:
            log(f"timed out with {pending} chunks pending")
            return False
        services.check()
        if progress and time.monotonic() - last_report > 5:
            log(f"  {pending} chunks pending")
            last_report = time.monotonic()
        time.sleep(0.1)


def send_all(
    client: Client, bodies: list[tuple[bytes, int]], rate: float | None, concurrency: int
) -> list[Sent]:
    """Unthrottled: ``concurrency`` senders back to back. With ``rate``: request k leaves at
    t0 + (items before it) / rate, from a pool so a slow answer does not delay the schedule."""
    results: list[Sent] = []
    pool = ThreadPoolExecutor(max_workers=concurrency)
    try:
        if rate is None:
            futures = [pool.submit(client.post, body) for body, _ in bodies]
        else:
            futures = []
            start = time.monotonic()
            offset = 0
            for body, count in bodies:
                delay = start + offset / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(client.post, body))
                offset += count
        done = 0
        for future in futures:
            results.append(future.result())
            done += results[-1].accepted
            if len(results) % max(1, len(futures) // 10) == 0:
                log(f"  {done} mentions accepted")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # on Ctrl-C: nothing more is sent
    return results


def measure(tenant_id: int, run: str, items: list[dict[str, Any]], sent: list[Sent]) -> dict:
    """Delays, lost and duplicated in SQL over this run's ids."""
    from django.db import connection, transaction

    batch_ids = [s.batch_id for s in sent]
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("CREATE TEMP TABLE bench_sent (platform text, external_id text) ON COMMIT DROP")
        with raw.copy("COPY bench_sent (platform, external_id) FROM STDIN") as copy:
            for item in items:
                copy.write_row((item["platform"], item["external_id"]))
        raw.execute(
            "CREATE TEMP TABLE bench_req (batch_id bigint, answered_at timestamptz) ON COMMIT DROP"
        )
        with raw.copy("COPY bench_req (batch_id, answered_at) FROM STDIN") as copy:
            for s in sent:
                copy.write_row((s.batch_id, datetime.fromtimestamp(s.answered_at, UTC)))
        raw.execute("ANALYZE bench_sent")
        raw.execute(
            """SELECT count(*) FROM bench_sent s WHERE NOT EXISTS (
                   SELECT 1 FROM monitoring_mention m WHERE m.tenant_id = %(t)s
                   AND m.platform = s.platform AND m.external_id = s.external_id)""",
            {"t": tenant_id},
        )
        lost = raw.fetchone()[0]
        raw.execute(
            """SELECT count(*) FROM (
                   SELECT m.external_id FROM monitoring_mention m
                   JOIN bench_sent s ON s.external_id = m.external_id
                   WHERE m.tenant_id = %(t)s GROUP BY m.external_id HAVING count(*) > 1) d""",
            {"t": tenant_id},
        )
        duplicated = raw.fetchone()[0]
        raw.execute(
            """SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY
                      extract(epoch FROM m.scored_at - r.answered_at)),
                      extract(epoch FROM max(m.scored_at)), count(*)
               FROM monitoring_mention m JOIN bench_req r ON r.batch_id = m.batch_id
               WHERE m.tenant_id = %(t)s AND m.external_id LIKE %(prefix)s""",
            {"t": tenant_id, "prefix": f"{run}-%"},
        )
        (p50, p95, p99), last_scored, scored_rows = raw.fetchone()
        raw.execute(
            """SELECT c.batch_id, extract(epoch FROM c.done_at), c.inserted
               FROM monitoring_ingestchunk c WHERE c.batch_id = ANY(%s)""",
            [batch_ids],
        )
        chunks = raw.fetchall()
    answered = {s.batch_id: s.answered_at for s in sent}
    visible: list[float] = []
    for batch_id, done_at, inserted in chunks:
        if done_at is not None:
            visible.extend([float(done_at) - answered[batch_id]] * inserted)
    last_done = max((float(c[1]) for c in chunks if c[1] is not None), default=float("nan"))
    return {
        "lost": int(lost),
        "duplicated": int(duplicated),
        "p50_delay_s": round(float(p50), 3) if p50 is not None else None,
        "p95_delay_s": round(float(p95), 3) if p95 is not None else None,
        "p99_delay_s": round(float(p99), 3) if p99 is not None else None,
        "p50_visible_delay_s": round(percentile(visible, 0.5), 3),
        "p95_visible_delay_s": round(percentile(visible, 0.95), 3),
        "last_scored_at": float(last_scored) if last_scored is not None else float("nan"),
        "last_done_at": last_done,
        "scored_rows": int(scored_rows),
    }


def scorer_rate(tenant_id: int, items: list[dict[str, Any]]) -> float:
    """Texts per CPU-second of the whole scorer on ``items`` with the tenant's extensions, in
    chunks of the pipeline's size, models loaded and caches warmed first (as in a worker)."""
    from monitoring.scoring import ScoreInput, get_scorer
    from monitoring.selectors import scoring_extensions
    from monitoring.services import CHUNK_SIZE

    scorer = get_scorer()
    extensions = scoring_extensions(tenant_id)
    inputs = [
        ScoreInput(
            text=item["text"],
            lang=item.get("lang") or None,
            platform=item["platform"],
            author_followers=item["author"]["followers"],
            author_verified=item["author"]["verified"],
            engagement=item["engagement"],
        )
        for item in items
    ]
    scorer.score_batch(inputs[:CHUNK_SIZE], extensions)
    cpu = time.process_time()
    for i in range(0, len(inputs), CHUNK_SIZE):
        scorer.score_batch(inputs[i : i + CHUNK_SIZE], extensions)
    return len(inputs) / (time.process_time() - cpu)


def cpu_seconds(services: Services) -> dict[str, float]:
    """CPU seconds so far of the web server, the cluster (with its workers), PostgreSQL, this
    process, and the whole machine (the rest is other people's work: note it with figures)."""
    import psutil

    out = {name: tree_cpu_seconds(child.pid) for name, child in services.children.items()}
    pg = postgres_pid()
    if pg is not None:
        out["postgres"] = tree_cpu_seconds(pg)
    out["benchmark"] = sum(os.times()[:2])
    times = psutil.cpu_times()
    out["machine_busy"] = sum(times) - times.idle - getattr(times, "iowait", 0.0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="mentions to send")
    ap.add_argument("--rate", type=float, default=None, help="offered load, mentions/s")
    ap.add_argument(
        "--batch",
        type=int,
        default=None,
        help="items per request (2000 unthrottled; rate/4, so 4 requests/s, with --rate)",
    )
    ap.add_argument("--concurrency", type=int, default=2, help="parallel senders (unthrottled)")
    ap.add_argument("--warmup", type=int, default=2000, help="warm-up items, not measured")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--timeout", type=float, default=900, help="bound on the whole run, seconds")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark tenant")
    ap.add_argument(
        "--scorer-sample", type=int, default=20_000, help="items timed for the scorer's own rate"
    )
    args = ap.parse_args()
    started = time.monotonic()
    deadline = started + args.timeout
    sigterm_as_interrupt()
    setup_django()
    from django.conf import settings

    from monitoring.demodata import generate

    prepare_database()
    as_owner()  # seeding and counting; the server and the workers are the application role
    workers = settings.Q_CLUSTER["workers"]
    run = f"r{int(time.time()):x}{secrets.token_hex(2)}"
    batch = args.batch or (max(1, round(args.rate / 4)) if args.rate else 2000)
    items = generate(args.n, seed=args.seed, run_id=run, brand="mixed")
    bodies = [
        (json.dumps(items[i : i + batch], ensure_ascii=False).encode(), len(items[i : i + batch]))
        for i in range(0, len(items), batch)
    ]
    warm = generate(args.warmup, seed=args.seed + 1, run_id=f"{run}w", brand="mixed")
    tenant, key = make_tenant(run)
    log(
        f"run {run}: tenant {tenant.slug}, {args.n} mentions in {len(bodies)} requests of "
        f"{batch}, rate {args.rate or 'unthrottled'}, {workers} workers, {load_note()}"
    )
    figures: dict[str, Any] = {}
    scoring_rate = scorer_rate(tenant.pk, items[: args.scorer_sample])
    cores = min(os.cpu_count() or 1, workers)
    log(f"scorer alone: {scoring_rate:.0f} texts per CPU-second (one core); bound on {cores} cores")
    try:
        with Services(web=True, worker=True) as services:
            client = Client(services.base_url, f"/api/v1/tenants/{tenant.slug}/ingest/", key)
            if warm:
                log(f"warm-up: {len(warm)} mentions")
                sent = [client.post(json.dumps(warm).encode())]
                wait_processed([s.batch_id for s in sent], services, deadline, progress=False)
            load_before = load_note()
            cpu_before = cpu_seconds(services)
            log("sending")
            t_first = time.time()
            sent = send_all(client, bodies, args.rate, 4 if args.rate else args.concurrency)
            t_sent = time.time()
            log(f"all {len(sent)} requests answered in {t_sent - t_first:.1f} s; waiting")
            complete = wait_processed([s.batch_id for s in sent], services, deadline)
            cpu_after = cpu_seconds(services)
            load_after = load_note()
            result = measure(tenant.pk, run, items, sent)
            end = result.pop("last_done_at")
            last_scored = result.pop("last_scored_at")
            elapsed = end - t_first
            request_s = [s.answered_at - s.sent_at for s in sent]
            cpu = {name: round(cpu_after[name] - cpu_before[name], 1) for name in cpu_before}
            ours = sum(v for k, v in cpu.items() if k != "machine_busy")
            cpu["others"] = round(max(0.0, cpu["machine_busy"] - ours), 1)
            pipeline_cpu = sum(cpu.get(name, 0.0) for name in ("web", "worker", "postgres"))
            per_cpu_s = args.n / pipeline_cpu if pipeline_cpu else 0.0
            mentions_per_s = round(args.n / elapsed, 1) if complete else 0.0
            figures = {
                "mentions_per_s": mentions_per_s,
                "scorer_texts_per_cpu_s": round(scoring_rate),
                "scoring_bound_per_s": round(cores * scoring_rate),
                "ratio_to_scoring_bound": round(mentions_per_s / (cores * scoring_rate), 3),
                "mentions_per_cpu_s": round(per_cpu_s, 1),
                "cpu_ratio_to_scoring_bound": round(per_cpu_s / scoring_rate, 3),
                **{k: result[k] for k in ("p50_delay_s", "p95_delay_s", "lost", "duplicated")},
                "n": args.n,
                "rate": args.rate,
                "workers": workers,
                "complete": complete,
                "elapsed_s": round(elapsed, 2),
                "send_s": round(t_sent - t_first, 2),
                "requests": len(sent),
                "batch": batch,
                "request_p50_s": round(percentile(request_s, 0.5), 3),
                "request_p95_s": round(percentile(request_s, 0.95), 3),
                "p99_delay_s": result["p99_delay_s"],
                "p50_visible_delay_s": result["p50_visible_delay_s"],
                "p95_visible_delay_s": result["p95_visible_delay_s"],
                "mentions_per_s_by_scored_at": round(args.n / (last_scored - t_first), 1),
                "cpu_s": cpu,
                "load_before": load_before,
                "load_after": load_after,
                "database": "DATABASE_URL" if settings.DATABASE_URL else "embedded",
            }
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if figures:
            log(f"figures: {json.dumps(figures)}")  # kept even if the clean-up below fails
        if not args.keep:
            drop_tenant(tenant.pk)
    log(f"done in {time.monotonic() - started:.0f} s")
    print(json.dumps(figures))
    return 0 if figures.get("complete") else 1


if __name__ == "__main__":
    raise SystemExit(main())
