"""The early-warning cost per mention, in one process: the pipeline chunk, then its outbox delivery.

    python benchmarks/early_warning.py [--n 10000] [--chunk 500] [--days 3] [--no-rules]
        [--without KIND[,KIND...]] [--batch K] [--profile OUT]

Creates a fresh tenant with the demo setup (queries, terms, domains, default alert rules;
``--no-rules`` disables the rules, ``--without hoax-spread,...`` the rules of those kinds: the
difference to a run with every rule is what those kinds cost), stores ``--n`` of the ingest
benchmark's mentions (``monitoring.demodata``) as chunks of ``--chunk`` items and, for each
chunk in turn, runs the pipeline (``monitoring.pipeline.process_chunk``) and then the delivery
of its outbox event (``tenants.outbox.deliver``: the early-warning subscriber), as the
cluster's workers do, but without the cluster (the delivery the pipeline asks for right after
its commit is this second step). Figures: this process's CPU milliseconds per mention for each
of the two steps, the SQL statements per 1,000 mentions of each (counted by Django), and the
alerts fired.

``--batch K`` stores K chunks before their deliveries run, as when a worker's delivery finds
more of the tenant's chunks committed (``tenants.outbox``: a batch subscriber takes the
tenant's pending events along, up to ``live.BATCH_EVENTS`` and ``BATCH_MENTIONS``): the K
events are judged as one. ``--profile OUT`` writes a cProfile of the deliveries
(``OUT.delivery``) and of the chunks (``OUT.chunk``). A warm-up of ``--warmup`` mentions in a
second tenant loads the scorer first. The tenants are deleted at the end. The last line of
stdout is one JSON object.

``--days`` spreads the mentions' publication times over that many days before now (the
default 3: all but the last two hours are backfill, which the mention rules skip);
``--days 0.02`` is the load of ``benchmarks/alerts.py``'s throughput part, where every mention
is live and every rule judges it.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import (
    as_owner,
    drop_tenant,
    load_note,
    prepare_database,
    setup_django,
)


def _backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far (NaN when not local)."""
    import psutil
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        return sum(psutil.Process(pid).cpu_times()[:2])
    except (psutil.Error, OSError):
        return float("nan")


def run(
    rounds: list[list[dict[str, Any]]],
    chunk: int,
    rules: bool,
    profile: str | None,
    without: tuple[str, ...] = (),
    batch_chunks: int = 1,
) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from benchmarks.ingest import make_tenant
    from monitoring.ingest import validate_items
    from monitoring.models import Alert, AlertRule, IngestBatch, IngestChunk
    from monitoring.pipeline import process_chunk
    from tenants import outbox

    tenant, _ = make_tenant(f"ew{int(time.time()):x}{secrets.token_hex(2)}")
    try:
        if not rules:
            AlertRule.objects.for_tenant(tenant.pk).update(enabled=False)
        elif without:
            AlertRule.objects.for_tenant(tenant.pk).filter(kind__in=without).update(enabled=False)
        queued: list[tuple[str, int, int]] = []
        real_dispatch, real_at_once = outbox._dispatch, outbox.deliver_at_once
        outbox._dispatch = lambda topic, tenant_id, event_id: queued.append(  # type: ignore[assignment]
            (topic, tenant_id, event_id)
        )
        # the chunk's delivery after its commit is timed below, as a step of its own
        outbox.deliver_at_once = lambda topic, tenant_id, event_id: None  # type: ignore[assignment]
        cpu = {"chunk": 0.0, "delivery": 0.0, "delivery_pg": 0.0}
        sql = {"chunk": 0, "delivery": 0}
        profiles = {
            "chunk": cProfile.Profile(time.process_time),
            "delivery": cProfile.Profile(time.process_time),
        }
        per_round: list[dict[str, float]] = []
        n = 0
        try:
            for items in rounds:
                valid = validate_items(items).items
                n += len(valid)
                batch = IngestBatch.objects.create(
                    tenant=tenant,
                    item_count=len(valid),
                    chunk_count=(len(valid) + chunk - 1) // chunk,
                )
                chunks = IngestChunk.objects.bulk_create(
                    [
                        IngestChunk(
                            tenant=tenant, batch=batch, index=i // chunk, items=valid[i : i + chunk]
                        )
                        for i in range(0, len(valid), chunk)
                    ]
                )
                before = dict(cpu)
                events: list[tuple[str, int, int]] = []
                for position, stored in enumerate(chunks, 1):
                    with CaptureQueriesContext(connection) as captured:
                        t0 = time.process_time()
                        if profile:
                            profiles["chunk"].enable()
                        process_chunk(tenant.pk, stored.pk)
                        if profile:
                            profiles["chunk"].disable()
                        cpu["chunk"] += time.process_time() - t0
                    sql["chunk"] += len(captured)
                    events += queued
                    queued[:] = []
                    if position % batch_chunks and position < len(chunks):
                        continue  # its delivery waits for the next chunks'
                    with CaptureQueriesContext(connection) as captured:
                        pg0, t0 = _backend_cpu(), time.process_time()
                        if profile:
                            profiles["delivery"].enable()
                        for topic, tenant_id, event_id in events:
                            outbox.deliver(topic, tenant_id, event_id)
                        if profile:
                            profiles["delivery"].disable()
                        cpu["delivery"] += time.process_time() - t0
                        cpu["delivery_pg"] += _backend_cpu() - pg0
                    sql["delivery"] += len(captured)
                    events = []
                per_round.append(
                    {
                        key: round(1000 * (cpu[key] - before[key]) / len(valid), 3)
                        for key in ("chunk", "delivery", "delivery_pg")
                    }
                )
        finally:
            outbox._dispatch = real_dispatch  # type: ignore[assignment]
            outbox.deliver_at_once = real_at_once  # type: ignore[assignment]
        if profile:
            for name, prof in profiles.items():
                prof.dump_stats(f"{profile}.{name}")
        return {
            "n": n,
            "chunk": chunk,
            "batch_chunks": batch_chunks,
            "rules": rules,
            "chunk_cpu_ms_per_mention": round(1000 * cpu["chunk"] / n, 3),
            "delivery_cpu_ms_per_mention": round(1000 * cpu["delivery"] / n, 3),
            "delivery_pg_cpu_ms_per_mention": round(1000 * cpu["delivery_pg"] / n, 3),
            "rounds": per_round,
            "chunk_sql_per_1000": round(1000 * sql["chunk"] / n, 1),
            "delivery_sql_per_1000": round(1000 * sql["delivery"] / n, 1),
            "alerts": Alert.objects.for_tenant(tenant.pk).count(),
            "alert_keys": sorted(
                Alert.objects.for_tenant(tenant.pk).values_list("dedupe_key", flat=True)
            ),
            "decisions": _decisions(tenant.pk),
        }
    finally:
        drop_tenant(tenant.pk)


def _decisions(tenant_id: int) -> list[str]:
    """What early warning decided, without ids or times of this run: each alert (rule, key,
    evidence count) and each hoax cluster (key, members, authors, first poster, alerted)."""
    from monitoring.models import Alert, HoaxCluster, HoaxMember, Mention

    out = [
        f"alert {kind} {key} evidence={evidence}"
        for kind, key, evidence in Alert.objects.for_tenant(tenant_id).values_list(
            "kind", "dedupe_key", "evidence_count"
        )
    ]
    out += [
        f"cluster {key} members={members} authors={authors} first={first} "
        f"alerted={alerted is not None} links={links}"
        for key, members, authors, first, alerted, links in HoaxCluster.objects.for_tenant(
            tenant_id
        ).values_list("key", "member_count", "author_count", "first_poster", "alerted_at", "links")
    ]
    external = dict(Mention.objects.for_tenant(tenant_id).values_list("id", "external_id"))
    clusters = dict(HoaxCluster.objects.for_tenant(tenant_id).values_list("id", "key"))
    out += [
        f"member {external.get(mention_id)} {clusters.get(cluster_id)}"
        for mention_id, cluster_id in HoaxMember.objects.for_tenant(tenant_id).values_list(
            "mention_id", "cluster_id"
        )
    ]
    return sorted(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--rounds", type=int, default=1, help="rounds of --n mentions fed to the same tenant"
    )
    ap.add_argument("--days", type=float, default=3.0, help="publication times span, days")
    ap.add_argument("--no-rules", action="store_true", help="the tenant's alert rules disabled")
    ap.add_argument(
        "--without", default="", help="comma-separated rule kinds disabled (e.g. hoax-spread)"
    )
    ap.add_argument(
        "--batch", type=int, default=1, help="chunks stored before their deliveries run (as one)"
    )
    ap.add_argument("--profile", default=None, help="write cProfile stats to OUT.chunk/.delivery")
    ap.add_argument("--decisions", default=None, help="write the alerts and clusters to this file")
    args = ap.parse_args()
    setup_django()
    from django.conf import settings

    from monitoring.choices import AlertKind
    from monitoring.demodata import generate

    settings.DEBUG = False  # no query log beyond what is counted here
    prepare_database()
    as_owner()
    tag = f"{int(time.time()):x}{secrets.token_hex(2)}"
    before = load_note()
    run(
        [generate(args.warmup, seed=args.seed + 1, run_id=f"{tag}w", brand="mixed")],
        500,
        True,
        None,
    )
    # the same items in every run, their times relative to now (as the backfill rule sees them);
    # each round the next slice of one long run, fed to the same tenant (its history grows)
    rounds = [
        generate(
            args.n,
            seed=args.seed,
            run_id=f"ew{args.seed}",
            brand="mixed",
            days=args.days,
            start=r * args.n,
        )
        for r in range(args.rounds)
    ]
    without = tuple(k for k in args.without.split(",") if k)
    unknown = set(without) - set(AlertKind.values)
    if unknown:
        ap.error(f"--without: unknown rule kinds {sorted(unknown)}; known: {AlertKind.values}")
    result = run(rounds, args.chunk, not args.no_rules, args.profile, without, args.batch)
    result["days"] = args.days
    result["without"] = list(without)
    result["load_before"], result["load_after"] = before, load_note()
    keys = result.pop("alert_keys")
    decisions = result.pop("decisions")
    if args.decisions:
        Path(args.decisions).write_text("\n".join(decisions) + "\n")
    result["alert_keys_sha256"] = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:12]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
