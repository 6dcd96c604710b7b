"""Read API benchmark: mention list (filters, orderings, counts) and metrics endpoints on a
1,000,000-mention tenant.

    python benchmarks/api.py [--n 1000000] [--requests 50] [--rebuild]

Builds (or reuses) the tenant ``bench-api-<n>`` directly in SQL: realistic posts from
``benchmarks/data.py`` scored by the real scorer and matched against the tenant's queries by the
real pipeline code (a few thousand distinct texts, so sentiment, language, risk, triggers,
hashtags and ``matched_queries`` agree with the text), spread over one million rows with
``generate_series``: 30,000 authors with long-tailed activity and followers, platforms,
engagement, ``published_at`` over the last 90 days (recent days busier; rows stored roughly in
time order, as ingest stores them), then the 5-minute and hourly rollups (``MetricBucket``,
``TermBucket``, ``AuthorBucket``, ``AuthorSlot``, ``MentionTally``) for every mention and every
query, then ``VACUUM ANALYZE`` (as autovacuum would after a million inserts).

The tenant is built as the tables' owner. Then, as the application role (row-level security on,
unless ``SIGAP_RLS=off``), in this process with Django's test client (middleware,
authentication, the database scope, throttling, filtering and serialisation included; no
network), it times ``--requests`` requests per endpoint as an analyst with a personal token, and
runs ``EXPLAIN`` (in the tenant's database scope, so the plans include the policy) on every SQL
statement each endpoint ran (captured with ``CaptureQueriesContext``) to report the scans used
and whether any is a sequential scan of ``monitoring_mention``. Routes are found by name; a
missing one is skipped with a note. The analyst's throttle is raised (``THROTTLE_RATE_USER``)
so the benchmark is not answered 429.

Progress goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import (
    drop_tenant,
    load_note,
    log,
    percentile,
    prepare_database,
    setup_django,
    sigterm_as_interrupt,
)

SPAN_DAYS = 90
AUTHORS = 30_000
TEMPLATES = 6_000
SLICE = 100_000
SEQUENTIAL_READ = (
    "SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; "
    "SET work_mem = '256MB'"
)
INDEXED_READ = (
    "RESET enable_indexscan; RESET enable_indexonlyscan; RESET enable_bitmapscan; RESET work_mem"
)
TARGET_P95_MS = 50.0  # at 10,000,000 mentions (issue 20)


# --- building the tenant -----------------------------------------------------------------------


def _tenant(n: int, rebuild: bool) -> tuple[Any, bool]:
    """The benchmark tenant and whether its data is there already."""
    from monitoring.models import Mention
    from tenants.models import Agency, Tenant
    from tenants.services import create_tenant

    slug = f"bench-api-{n}"
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is not None and rebuild:
        log(f"dropping {slug}")
        drop_tenant(tenant.pk)
        tenant = None
    if tenant is not None:
        if Mention.objects.for_tenant(tenant).count() == n:
            return tenant, True
        log(f"{slug} is incomplete; rebuilding")
        drop_tenant(tenant.pk)
    agency, _ = Agency.objects.get_or_create(slug="sigap-bench", defaults={"name": "Benchmarks"})
    return create_tenant(agency=agency, slug=slug, name=f"API benchmark ({n} mentions)"), False


def _templates(tenant_id: int) -> list[tuple[Any, ...]]:
    """Distinct realistic texts, scored and matched by the production pipeline code."""
    from monitoring.demodata import generate
    from monitoring.ingest import validate_items
    from monitoring.pipeline import _rows

    validated = validate_items(generate(TEMPLATES, seed=11, run_id="tmpl", brand="mixed"))
    seen: set[str] = set()
    distinct = []
    for item in validated.items:  # as the ingest endpoint stores them
        if item["text"] not in seen:
            seen.add(item["text"])
            distinct.append(item)
    return _rows(tenant_id, distinct)


# The columns a template contributes to each mention (the rest vary per row).
TEMPLATE_NAMES = ("text", "language", "language_confidence", "matched_queries", "sentiment",
                  "sentiment_scores", "provocation", "triggers", "scores", "hashtags", "risk",
                  "scorer_version")  # fmt: skip


def build(tenant: Any, n: int) -> float:
    """Fill the tenant with ``n`` mentions and their rollups; returns seconds taken."""
    import random

    from django.db import connection

    from monitoring.demo import ensure_setup
    from monitoring.demodata import make_authors
    from monitoring.pipeline import STAGE_COLUMNS

    started = time.monotonic()
    ensure_setup(tenant)
    types = dict(STAGE_COLUMNS)
    position = {name: i for i, (name, _) in enumerate(STAGE_COLUMNS)}
    rows = _templates(tenant.pk)
    authors = make_authors(random.Random(11), AUTHORS)
    rng = random.Random(12)
    platforms = ["x"] * 40 + ["instagram"] * 22 + ["tiktok"] * 18 + ["facebook"] * 14
    platforms += ["news"] * 6
    log(f"{len(rows)} scored templates, {len(authors)} authors; inserting {n} mentions")
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("DROP TABLE IF EXISTS bench_tmpl, bench_author")
        raw.execute(
            "CREATE TEMP TABLE bench_tmpl (id int PRIMARY KEY, "
            + ", ".join(f"{name} {types[name]}" for name in TEMPLATE_NAMES)
            + ")"
        )
        with raw.copy(f"COPY bench_tmpl (id, {', '.join(TEMPLATE_NAMES)}) FROM STDIN") as copy:
            for number, row in enumerate(rows, start=1):
                copy.write_row((number, *(row[position[name]] for name in TEMPLATE_NAMES)))
        raw.execute(
            "CREATE TEMP TABLE bench_author (id int PRIMARY KEY, platform text, handle text, "
            "name text, followers bigint, verified boolean)"
        )
        with raw.copy("COPY bench_author FROM STDIN") as copy:
            for number, author in enumerate(authors, start=1):
                handle = f"{author.handle}{number}" if number > 1000 else author.handle
                copy.write_row(
                    (
                        number,
                        rng.choice(platforms),
                        handle,
                        author.name,
                        author.followers,
                        author.verified,
                    )
                )
        raw.execute("ANALYZE bench_tmpl; ANALYZE bench_author")
        raw.execute("SELECT setseed(0.42)")
        for start in range(0, n, SLICE):
            stop = min(n, start + SLICE)
            # Authors: power(random(), 2.5) favours low ids (a few very active accounts).
            # Age: falls with i (rows arrive roughly in time order, as ingest stores them, so a
            # period's rows share heap pages) along power(u, 1.3) over 90 days: recent days are
            # busier. Up to 10 minutes of jitter.
            raw.execute(
                """
                INSERT INTO monitoring_mention (tenant_id, platform, external_id, url,
                    author_handle, author_name, author_followers, author_verified, text,
                    language, language_confidence, published_at, ingested_at, scored_at,
                    likes, shares, replies, views, raw, matched_queries, sentiment,
                    sentiment_scores, provocation, triggers, scores, hashtags, risk,
                    scorer_version, status, tags)
                SELECT %(tenant)s, a.platform, 'api-' || s.i,
                    'https://example.com/' || a.platform || '/' || a.handle || '/' || s.i,
                    a.handle, a.name, a.followers, a.verified, t.text, t.language,
                    t.language_confidence, s.published_at, s.published_at + interval '20 s',
                    s.published_at + interval '21 s', s.likes, s.likes / 10, s.likes / 7,
                    s.likes * 25 + 10, '{}'::jsonb, t.matched_queries, t.sentiment,
                    t.sentiment_scores, t.provocation, t.triggers, t.scores, t.hashtags,
                    t.risk, t.scorer_version,
                    CASE WHEN s.r < 0.9 THEN 'new' WHEN s.r < 0.96 THEN 'relevant'
                         WHEN s.r < 0.99 THEN 'irrelevant' ELSE 'responded' END, '{}'
                FROM (
                    SELECT i, random() AS r,
                        1 + floor(random() * %(templates)s)::int AS tid,
                        1 + floor(%(authors)s * power(random(), 2.5))::int AS aid,
                        now() - make_interval(secs => %(span)s
                            * power(1 - (i + 0.5) / %(n)s, 1.3) + random() * 600)
                            AS published_at,
                        floor(power(random(), 4) * 500)::bigint AS likes
                    FROM generate_series(%(start)s, %(stop)s - 1) AS i
                ) s
                JOIN bench_tmpl t ON t.id = s.tid
                JOIN bench_author a ON a.id = s.aid
                """,
                {
                    "tenant": tenant.pk,
                    "templates": len(rows),
                    "authors": len(authors),
                    "span": SPAN_DAYS * 86_400,
                    "start": start,
                    "stop": stop,
                    "n": n,
                },
            )
            log(f"  {stop} mentions ({time.monotonic() - started:.0f} s)")
        log("rollups")
        raw.execute(
            """
            INSERT INTO monitoring_metricbucket (tenant_id, query_id, bucket, mentions,
                positive, neutral, negative, reach, engagement)
            SELECT %(tenant)s, q.query_id, date_bin('5 minutes', m.published_at,
                    '2000-01-01 00:00:00+00'), count(*),
                count(*) FILTER (WHERE m.sentiment = 'positive'),
                count(*) FILTER (WHERE m.sentiment = 'neutral'),
                count(*) FILTER (WHERE m.sentiment = 'negative'),
                sum(m.author_followers), sum(m.likes + m.shares + m.replies)
            FROM monitoring_mention m
            CROSS JOIN LATERAL unnest(array_prepend(0::bigint, m.matched_queries)) AS q(query_id)
            WHERE m.tenant_id = %(tenant)s
            GROUP BY 1, 2, 3
            """,
            {"tenant": tenant.pk},
        )
        # The hourly hashtag and tracked-term rollups the pipeline keeps (``TermBucket``).
        raw.execute(
            """
            INSERT INTO monitoring_termbucket (tenant_id, query_id, kind, bucket, text, mentions)
            SELECT %(tenant)s, q.query_id, 'hashtag', date_trunc('hour', m.published_at), tag,
                count(*)
            FROM monitoring_mention m
            CROSS JOIN LATERAL unnest(array_prepend(0::bigint, m.matched_queries)) AS q(query_id)
            CROSS JOIN LATERAL (SELECT DISTINCT t FROM unnest(m.hashtags) AS t) AS h(tag)
            WHERE m.tenant_id = %(tenant)s
            GROUP BY 1, 2, 3, 4, 5
            """,
            {"tenant": tenant.pk},
        )
        # The author rollups the pipeline keeps: hourly (``AuthorBucket``) and per 5 minutes
        # (``AuthorSlot``), as their migrations' backfills. Read in one sequential pass and
        # grouped by sorting: in ``mention_author`` order (the grouping's own order, the
        # planner's choice at 10 M) the mentions are read one random page at a time.
        raw.execute(SEQUENTIAL_READ)
        for table, bucket in (
            ("monitoring_authorbucket", "date_trunc('hour', m.published_at, 'UTC')"),
            (
                "monitoring_authorslot",
                "date_bin('5 minutes', m.published_at, '2000-01-01 00:00:00+00')",
            ),
        ):
            raw.execute(
                f"""
                INSERT INTO {table} (tenant_id, query_id, bucket, platform,
                    author_handle, author_name, mentions, reach)
                SELECT %(tenant)s, q.query_id, {bucket}, m.platform,
                    m.author_handle, max(m.author_name), count(*), max(m.author_followers)
                FROM monitoring_mention m
                CROSS JOIN LATERAL unnest(array_prepend(0::bigint, m.matched_queries))
                    AS q(query_id)
                WHERE m.tenant_id = %(tenant)s AND m.author_handle <> ''
                GROUP BY 1, 2, 3, 4, 5
                """,  # noqa: S608 - constant text
                {"tenant": tenant.pk},
            )
        raw.execute(INDEXED_READ)
        # The hourly tally per sentiment the pipeline keeps (``MentionTally``).
        raw.execute(
            """
            INSERT INTO monitoring_mentiontally (tenant_id, bucket, sentiment, mentions)
            SELECT %(tenant)s, date_trunc('hour', published_at, 'UTC'), sentiment, count(*)
            FROM monitoring_mention WHERE tenant_id = %(tenant)s
            GROUP BY 1, 2, 3
            """,
            {"tenant": tenant.pk},
        )
        # What autovacuum does after a million inserts: statistics, and the visibility map
        # index-only scans rely on.
        log("VACUUM ANALYZE")
        raw.execute("VACUUM ANALYZE monitoring_mention")
        raw.execute("VACUUM ANALYZE monitoring_metricbucket")
        raw.execute("VACUUM ANALYZE monitoring_termbucket")
        raw.execute("VACUUM ANALYZE monitoring_authorbucket")
        raw.execute("VACUUM ANALYZE monitoring_authorslot")
        raw.execute("VACUUM ANALYZE monitoring_mentiontally")
        raw.execute("DROP TABLE bench_tmpl, bench_author")
    return time.monotonic() - started


# --- timing --------------------------------------------------------------------------------


def endpoints(slug: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(label, path with query) per endpoint; the notes name the routes that are missing."""
    from django.urls import NoReverseMatch, reverse

    wanted = [
        ("mentions: first page", "mention-list", ""),
        ("mentions: negative, risk>=70, x", "mention-list",
         "sentiment=negative&min_risk=70&platform=x"),
        ("mentions: next page (cursor)", "mention-list", "@next"),
        ("mentions: q=boikot", "mention-list", "q=boikot"),
        ("mentions: q=\"layanan buruk\"", "mention-list", "q=%22layanan+buruk%22"),
        ("mentions: ordering=-risk", "mention-list", "ordering=-risk"),
        ("mentions: -risk next page (cursor)", "mention-list", "@next:mentions: ordering=-risk"),
        ("mentions: -risk page 1,000 (cursor)", "mention-list", "@deep:-risk"),
        ("mentions: ordering=-reach", "mention-list", "ordering=-reach"),
        ("mentions: -reach page 1,000 (cursor)", "mention-list", "@deep:-reach"),
        ("mentions: negative by -risk", "mention-list", "sentiment=negative&ordering=-risk"),
        ("mentions: risk_band=critical", "mention-list", "risk_band=critical"),
        ("mentions: count, negative", "mention-count", "sentiment=negative"),
        ("mentions: count, 1 day", "mention-count", "@since:1"),
        ("metrics: volume 1h, 7 days", "metrics-volume", "interval=1h"),
        ("metrics: share of voice", "metrics-share-of-voice", ""),
        ("metrics: top authors", "metrics-top-authors", ""),
        ("metrics: top hashtags", "metrics-top-hashtags", ""),
        ("metrics: top terms", "metrics-top-terms", ""),
    ]  # fmt: skip
    found, notes = [], []
    for label, name, query in wanted:
        try:
            path = reverse(name, kwargs={"tenant_slug": slug})
        except NoReverseMatch:
            notes.append(f"route '{name}' not found: '{label}' skipped")
            continue
        found.append((label, path + ("?" + query if query else "")))
    return found, notes


def _scans(plan: dict[str, Any], out: list[str]) -> None:
    kind = plan.get("Node Type", "")
    if "Scan" in kind:
        target = plan.get("Index Name") or plan.get("Relation Name") or plan.get("Alias") or ""
        out.append(f"{kind} {target}".strip())
    for child in plan.get("Plans", []):
        _scans(child, out)


def explain(sqls: list[str], tenant_id: int) -> dict[str, Any]:
    """Scans of every statement touching the monitoring tables, and any Seq Scan on mentions."""
    from django.db import connection

    from tenants import dbscope

    scans: list[str] = []
    seq_mention = False
    with dbscope.tenant_scope([tenant_id]), connection.cursor() as cursor:
        for sql in sqls:
            ours = re.search(
                r"monitoring_(mention|metricbucket|termbucket|author(bucket|slot)|mentiontally)",
                sql,
            )
            if not ours or not sql.lstrip("( ").upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            if isinstance(plan, str):
                plan = json.loads(plan)
            found: list[str] = []
            _scans(plan[0]["Plan"], found)
            scans.extend(found)
            seq_mention |= any(s == "Seq Scan monitoring_mention" for s in found)
    return {"scans": sorted(set(scans)), "seq_scan_on_mention": seq_mention}


def deep_cursor(tenant: Any, ordering: str, offset: int) -> str:
    """``ordering=...&cursor=...`` naming the mention at ``offset`` in that ordering, as the
    list's own ``next`` link would after ``offset / 50`` pages."""
    import base64

    from monitoring.filtersets import MENTION_ORDERINGS
    from monitoring.models import Mention

    columns = MENTION_ORDERINGS[ordering.removeprefix("-")]
    sign = "-" if ordering.startswith("-") else ""
    row = (
        Mention.objects.for_tenant(tenant)
        .order_by(*(sign + column for column in columns))
        .values_list(*columns)[offset]
    )
    values = [v.isoformat() if isinstance(v, datetime) else str(v) for v in row]
    token = base64.urlsafe_b64encode("|".join([ordering, *values, "n"]).encode()).decode()
    return f"ordering={quote(ordering)}&cursor={quote(token)}"


def time_endpoints(tenant: Any, count: int) -> tuple[dict[str, Any], list[str]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tenants.models import Membership, User
    from tenants.roles import Role
    from tenants.services import issue_token

    user = User.objects.filter(email="analyst@bench.sigap").first()
    if user is None:
        user = User.objects.create_user("analyst@bench.sigap", password=None, agency=tenant.agency)
    Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": Role.ANALYST})
    _, token = issue_token(user=user, name="api benchmark")
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    found, notes = endpoints(tenant.slug)
    results: dict[str, Any] = {}
    next_links: dict[str, str] = {}  # label -> the next link of its answer
    for label, path in found:
        base, _, query = path.partition("?")
        if query.startswith("@next"):
            source = query.partition(":")[2] or "mentions: first page"
            if not next_links.get(source):
                notes.append(f"'{label}' skipped: '{source}' has no next link")
                continue
            path = next_links[source]
        elif query.startswith("@deep:"):
            path = f"{base}?{deep_cursor(tenant, query.partition(':')[2], 50_000)}"
        elif query.startswith("@since:"):
            days = int(query.partition(":")[2])
            since = (datetime.now(UTC) - timedelta(days=days)).isoformat()
            path = f"{base}?published_after={quote(since)}"

        def get(path: str = path) -> Any:
            response = client.get(path, HTTP_ACCEPT="application/json")
            if response.status_code != 200:
                detail = response.content[:300]
                raise RuntimeError(f"{path} answered {response.status_code}: {detail!r}")
            return response

        for _ in range(3):  # warm caches and connections
            response = get()
        if isinstance(response.json(), dict) and response.json().get("next"):
            parts = urlsplit(response.json()["next"])
            next_links[label] = parts.path + "?" + parts.query
        times = []
        for _ in range(count):
            t0 = time.perf_counter()
            get()
            times.append((time.perf_counter() - t0) * 1000)
        with CaptureQueriesContext(connection) as captured:
            body = get().json()
        plans = explain([q["sql"] for q in captured.captured_queries], tenant.pk)
        size = len(body.get("results", body.get("series", [])) or []) or body.get("count", 0)
        results[label] = {
            "path": path,
            "p50_ms": round(percentile(times, 0.5), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "queries": len(captured.captured_queries),
            "rows": size,
            **plans,
        }
        log(
            f"{label:34} p50 {results[label]['p50_ms']:7.1f} ms  p95 "
            f"{results[label]['p95_ms']:7.1f} ms  {len(captured.captured_queries)} queries  "
            f"{'SEQ SCAN on mention ' if plans['seq_scan_on_mention'] else ''}"
            f"{', '.join(plans['scans'])}"
        )
    return results, notes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="mentions in the tenant")
    ap.add_argument("--requests", type=int, default=50, help="timed requests per endpoint")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the tenant even if present")
    args = ap.parse_args()
    os.environ.setdefault("THROTTLE_RATE_USER", "1000000/min")
    sigterm_as_interrupt()
    setup_django()
    prepare_database()
    from django.conf import settings

    from monitoring.models import Mention
    from tenants import dbscope
    from tenants.rls import use_role

    use_role("owner")  # builds (or finds) the tenant
    tenant, reused = _tenant(args.n, args.rebuild)
    build_s = None
    if reused:
        log(f"reusing {tenant.slug} ({args.n} mentions); --rebuild to build it again")
    else:
        build_s = round(build(tenant, args.n), 1)
        log(f"built {tenant.slug} in {build_s} s")
    stored = Mention.objects.for_tenant(tenant).count()
    use_role("application")  # what is measured runs as the web server does
    load = load_note()
    try:
        with dbscope.all_tenants("api benchmark: the analyst's account"):
            results, notes = time_endpoints(tenant, args.requests)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    for note in notes:
        log("note: " + note)
    worst = max((r["p95_ms"] for r in results.values()), default=float("nan"))
    figures = {
        "n": stored,
        "requests": args.requests,
        "build_s": build_s,
        "endpoints": results,
        "max_p95_ms": worst,
        "target_p95_ms": TARGET_P95_MS,
        "all_under_target_p95": all(r["p95_ms"] <= TARGET_P95_MS for r in results.values()),
        "any_seq_scan_on_mention": any(r["seq_scan_on_mention"] for r in results.values()),
        "notes": notes,
        "row_level_security": settings.SIGAP_RLS,
        "load_before": load,
        "load_after": load_note(),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
