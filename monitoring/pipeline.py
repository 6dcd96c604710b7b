"""The mention pipeline: one ingest chunk in, scored and matched mentions plus rollups out.

``process_chunk`` runs inside one database transaction that also marks the chunk done, so a
task delivered twice, or retried after its worker was killed or its database restarted, stores
every mention once and counts it once. Mentions are written in bulk: COPY into a temporary
staging table, then ``INSERT ... ON CONFLICT (tenant_id, platform, external_id) DO NOTHING
RETURNING``, which returns exactly the rows this chunk created; rollups are upserted from those
rows only. The items that already had a row are then sent to one tenant-pinned ``UPDATE ... FROM
unnest(...)``, which changes (and returns) only the rows whose engagement or follower count
changed. The hourly author rollup (``monitoring.authors``) and the hourly tally of mentions
per sentiment (``monitoring.counts``) are upserted from the inserted rows as well, and the
hours of the updated rows' authors are recounted from the mentions (a follower count may have
gone down). Nothing reads ``xmax`` or another system column, so the same statements work when
the mention and rollup tables are partitioned by tenant (``PARTITION BY HASH (tenant_id)``, or
a table distributed by tenant).

Under concurrency (two workers storing overlapping items) the counts stay exact: a worker whose
INSERT meets a row another worker inserted but has not committed waits for it, and then skips
the row if it committed (its UPDATE, a new statement, sees the row) or inserts it if it rolled
back; a row is therefore inserted, and counted, by exactly one chunk. Staged rows and rollup
keys are sorted, so every worker takes its row locks in one order (no deadlocks between chunks).

Every statement names the tenant (``tenant_id``), as a database sharded by tenant needs.

The same transaction writes the chunk's outbox row (``PipelineEvent``: query ids, 5-minute
buckets, ids of inserted and updated mentions) and queues its delivery, so subscribers
registered with ``tenants.outbox`` (early warning) learn of every committed chunk exactly once,
even when a worker dies between the commit and their turn (docs/outbox.md). The pipeline never
imports a subscriber.

One item never sinks its chunk: items are validated at the door (``monitoring.ingest``) by the
rules the columns keep, hashtags the scorer finds are cut to the column's length, and if the
database still refuses the chunk's rows for their data, they are stored again one by one, each
in its own savepoint; a refused item is added to the batch's ``rejected`` list with its index
and a stable reason, and the database's message goes to the log only.

A chunk that fails for any other reason (the database gone, a bug) fails its task, which
django-q2 retries; after the last attempt ``mark_failed`` gives the batch a stable error and
logs the traceback.
"""

from __future__ import annotations

import json
import json.encoder
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NamedTuple, cast

import psycopg
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from monitoring import authors, classifier, sqlarrays
from monitoring import counts as tally
from monitoring.choices import BatchStatus
from monitoring.ingest import QueuedItem, normalise_handle
from monitoring.models import IngestBatch, IngestChunk, Mention, MonitoredQuery, PipelineEvent
from monitoring.querylang import Matcher, compile_query, parse, prepare
from monitoring.scoring import ScoreInput, TenantExtensions, get_scorer
from monitoring.selectors import scoring_extensions
from tenants import outbox
from tenants.commits import commit_without_flush

logger = logging.getLogger("sigap.pipeline")

BUCKET = timedelta(minutes=5)
MAX_HASHTAG = Mention._meta.get_field("hashtags").base_field.max_length  # type: ignore[attr-defined]
# Errors that say a row's data is wrong (too long, out of range, not encodable), not that the
# database or the code is broken: the chunk is stored again item by item.
ROW_ERRORS = (
    psycopg.errors.DataError,
    psycopg.errors.IntegrityError,
    DataError,
    IntegrityError,
    UnicodeError,
)
# What a refused item's rejection says, by SQLSTATE; the database's own message is logged only.
REFUSALS = {
    "22001": "A value is longer than its field allows.",
    "22003": "A number is out of the range its field allows.",
    "22021": "A value holds characters the database cannot store.",
    "22P05": "A value holds characters the database cannot store.",
}
REFUSED = "The item could not be stored."
FAILED = (
    "processing_failed: processing stopped after every retry; the items are kept. "
    "An operator finds the cause in the worker log under chunk {chunk}."
)
CACHE_TTL_S = 30.0


class MentionRow(NamedTuple):
    """One scored mention as it is staged (COPY) and upserted: the staging table's columns, in
    order (``STAGE_COLUMNS``). A NamedTuple is a tuple, so COPY writes it as it is."""

    platform: str
    external_id: str
    url: str
    author_handle: str
    author_name: str
    author_followers: int
    author_verified: bool
    text: str
    language: str
    language_confidence: float
    published_at: str
    likes: int
    shares: int
    replies: int
    views: int
    raw: str  # JSON columns as JSON text (``_json``)
    matched_queries: str  # arrays as PostgreSQL array literals (``monitoring.sqlarrays``)
    sentiment: str
    sentiment_scores: str
    provocation: float
    triggers: str
    scores: str
    hashtags: str
    risk: int
    scorer_version: str


# The SQL type of each staged column, by name; the order is ``MentionRow``'s.
_SQL_TYPES = {
    "author_followers": "bigint",
    "author_verified": "boolean",
    "language_confidence": "double precision",
    "published_at": "timestamptz",
    "likes": "bigint",
    "shares": "bigint",
    "replies": "bigint",
    "views": "bigint",
    "raw": "jsonb",
    "matched_queries": "bigint[]",
    "sentiment_scores": "jsonb",
    "provocation": "double precision",
    "triggers": "text[]",
    "scores": "jsonb",
    "hashtags": "text[]",
    "risk": "smallint",
}
STAGE_COLUMNS = tuple((name, _SQL_TYPES.get(name, "text")) for name in MentionRow._fields)


class _Known(NamedTuple):
    """What the worker knows of a staged row as lists (the row holds them as array literals):
    with ``_INSERT``'s id and time, an inserted row's ``Upserted`` without reading it back."""

    matched_queries: list[int]
    hashtags: list[str]
    terms: list[str]  # the texts of the row's ``term`` entities, as ``_terms`` reads them
    # for the hand-off to early warning (``StoredMention``): the stored ``triggers``, the
    # ``negative`` of ``sentiment_scores`` and the non-empty texts of the ``domain`` entities
    triggers: list[str]
    negative: float
    domains: list[str]


class Upserted(NamedTuple):
    """A stored row: ``inserted`` (new) or updated, then the ``RETURNING`` list of ``_UPDATE``,
    in order (an inserted row's from ``_INSERT`` and ``_Known``)."""

    inserted: bool
    published_at: datetime
    sentiment: str
    matched_queries: list[int]
    author_followers: int
    engagement: int
    hashtags: list[str]
    terms: list[str]  # the texts of the row's ``term`` entities (``_terms``)
    id: int
    platform: str
    author_handle: str
    author_name: str
    external_id: str = ""  # an inserted row's (the hand-off to early warning, ``_handoff``)


def _json_encoder() -> Any:
    """``json.dumps`` with its default arguments, without building a new encoder at each call
    (``json.dumps`` makes one per call: 1.4 µs of 1.5 for ``{}``): the same C encoder
    ``json.dumps`` makes, built once. No circular-reference markers: a value that refers to
    itself cannot come from JSON or the scorer. Falls back to ``json.dumps`` without the C
    accelerator."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.dumps
    default = json.JSONEncoder().default  # raises TypeError, as json.dumps does
    encoder = make(
        None, default, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True
    )

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    return encode


# The text json.dumps(value) writes, for the staged JSON columns: the server parses it as
# ``jsonb`` as it parsed psycopg's ``Jsonb`` (which sent json.dumps's text), with no
# per-value dumper.
_json = _json_encoder()

_NAMES = ", ".join(name for name, _ in STAGE_COLUMNS)
_STAGE_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS sigap_mention_stage ("
    + ", ".join(f"{name} {kind}" for name, kind in STAGE_COLUMNS)
    + ") ON COMMIT DELETE ROWS"
)


def _terms(scores: str) -> str:
    """The texts of the ``term`` entities in ``scores`` as ``text[]``: the term rollup's input,
    sent back as an array (read in C) rather than the whole entity list as JSON text that the
    worker would parse again row by row. Entities are written by the scorer: objects with a
    string ``text``; a missing or empty text is left out."""
    entities = f"{scores} -> 'entities'"
    return f"""ARRAY(SELECT e ->> 'text' FROM jsonb_array_elements(
        CASE jsonb_typeof({entities}) WHEN 'array' THEN {entities} ELSE '[]'::jsonb END) AS e
        WHERE e ->> 'type' = 'term' AND e ->> 'text' <> '') AS terms"""  # noqa: S608 - constant text


# An inserted row returns its id, its stored time and its key only: the rest of its
# ``Upserted`` is what the worker staged (``_Known``), not read back and converted again
# (returning every column and the term texts from each row's entity list cost about 3.5 µs
# per row, 8 % of the statement with its key checks).
_INSERT = f"""
    INSERT INTO monitoring_mention (tenant_id, batch_id, {_NAMES},
        ingested_at, scored_at, status, tags)
    SELECT %(tenant)s, %(batch)s, {_NAMES}, now(), now(), 'new', '{{}}'
    FROM sigap_mention_stage
    ON CONFLICT (tenant_id, platform, external_id) DO NOTHING
    RETURNING id, published_at, platform, external_id
"""  # noqa: S608 - built from the constant column list above
# The items that were not inserted (their row exists): engagement and followers, where changed.
_UPDATE = f"""
    UPDATE monitoring_mention AS m SET
        likes = s.likes, shares = s.shares, replies = s.replies, views = s.views,
        author_followers = s.author_followers
    FROM unnest(%(platform)s::text[], %(external_id)s::text[], %(likes)s::bigint[],
        %(shares)s::bigint[], %(replies)s::bigint[], %(views)s::bigint[],
        %(author_followers)s::bigint[])
        AS s(platform, external_id, likes, shares, replies, views, author_followers)
    WHERE m.tenant_id = %(tenant)s AND m.platform = s.platform
        AND m.external_id = s.external_id
        AND (m.likes, m.shares, m.replies, m.views, m.author_followers)
        IS DISTINCT FROM (s.likes, s.shares, s.replies, s.views, s.author_followers)
    RETURNING m.published_at, m.sentiment, m.matched_queries, m.author_followers,
        m.likes + m.shares + m.replies AS engagement, m.hashtags,
        {_terms("m.scores")}, m.id, m.platform, m.author_handle, m.author_name
"""  # noqa: S608 - constant text
_TERM_ROLLUP = """
    INSERT INTO monitoring_termbucket (tenant_id, query_id, kind, bucket, text, mentions)
    SELECT %(tenant)s, * FROM unnest(%(query)s::bigint[], %(kind)s::text[],
        %(bucket)s::timestamptz[], %(text)s::text[], %(mentions)s::int[])
    ON CONFLICT (tenant_id, query_id, kind, bucket, text) DO UPDATE SET
        mentions = monitoring_termbucket.mentions + EXCLUDED.mentions
"""
_ROLLUP = """
    INSERT INTO monitoring_metricbucket (tenant_id, query_id, bucket, mentions, positive,
        neutral, negative, reach, engagement)
    SELECT %(tenant)s, * FROM unnest(%(query)s::bigint[], %(bucket)s::timestamptz[],
        %(mentions)s::int[], %(positive)s::int[], %(neutral)s::int[], %(negative)s::int[],
        %(reach)s::bigint[], %(engagement)s::bigint[])
    ON CONFLICT (tenant_id, query_id, bucket) DO UPDATE SET
        mentions = monitoring_metricbucket.mentions + EXCLUDED.mentions,
        positive = monitoring_metricbucket.positive + EXCLUDED.positive,
        neutral = monitoring_metricbucket.neutral + EXCLUDED.neutral,
        negative = monitoring_metricbucket.negative + EXCLUDED.negative,
        reach = monitoring_metricbucket.reach + EXCLUDED.reach,
        engagement = monitoring_metricbucket.engagement + EXCLUDED.engagement
"""


class _TenantCache:
    """Per-process cache of a tenant's compiled queries and scoring extensions."""

    def __init__(self) -> None:
        self.matchers: dict[int, tuple[Any, Matcher[int], dict[int, MonitoredQuery]]] = {}
        self.extensions: dict[int, tuple[float, TenantExtensions]] = {}

    def matcher(self, tenant_id: int) -> tuple[Matcher[int], dict[int, MonitoredQuery]]:
        active = MonitoredQuery.objects.for_tenant(tenant_id).filter(is_active=True)
        version = tuple(active.aggregate(n=Count("id"), changed=Max("updated_at")).values())
        cached = self.matchers.get(tenant_id)
        if cached is None or cached[0] != version:
            queries = {q.pk: q for q in active}
            compiled = []
            for query in queries.values():
                try:
                    compiled.append((query.pk, compile_query(parse(query.query))))
                except ValueError:
                    continue  # refused on save; an old row that no longer parses matches nothing
            cached = (version, Matcher(compiled), queries)
            self.matchers[tenant_id] = cached
        return cached[1], cached[2]

    def scoring(self, tenant_id: int) -> TenantExtensions:
        now = time.monotonic()
        cached = self.extensions.get(tenant_id)
        if cached is None or now - cached[0] > CACHE_TTL_S:
            cached = (now, scoring_extensions(tenant_id))
            self.extensions[tenant_id] = cached
        return cached[1]


_cache = _TenantCache()


def _bucket(moment: datetime) -> datetime:
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % int(BUCKET.total_seconds()), tz=moment.tzinfo)


def _unique(items: list[QueuedItem]) -> list[QueuedItem]:
    """One item per (platform, external_id), the last copy winning, in key order (the order
    every worker locks rows in)."""
    by_key = {(item["platform"], item["external_id"]): item for item in items}
    return [by_key[key] for key in sorted(by_key)]


def _scored(tenant_id: int, items: list[QueuedItem]) -> tuple[list[MentionRow], list[_Known]]:
    """The items' rows to stage and, for each, what ``_Known`` keeps."""
    scorer = get_scorer()
    results = scorer.score_batch(
        [
            ScoreInput(
                text=item["text"],
                lang=item["lang"] or None,
                platform=item["platform"],
                author_followers=item["author"]["followers"],
                author_verified=item["author"]["verified"],
                engagement=cast(Mapping[str, float], item["engagement"]),
            )
            for item in items
        ],
        _cache.scoring(tenant_id),
        classifier.live_adapter(tenant_id),  # the tenant's classifier, or None: the base models
    )
    matcher, queries = _cache.matcher(tenant_id)
    rows = []
    known = []
    for item, result in zip(items, results, strict=True):
        language = item["lang"] or (result.language if result.ok else "")
        matched = []
        if len(queries):
            for query_id in matcher.match(prepare(item["text"])):
                query = queries[query_id]
                if query.languages and language not in query.languages:
                    continue
                if query.platforms and item["platform"] not in query.platforms:
                    continue
                matched.append(query_id)
        hashtags = sorted(
            {e.text.lower()[:MAX_HASHTAG] for e in result.entities if e.type == "hashtag"}
        )
        author = item["author"]
        engagement = item["engagement"]
        triggers = sorted(result.triggers) if result.ok else []
        probabilities = result.probabilities if result.ok else {}
        rows.append(
            MentionRow(
                platform=item["platform"],
                external_id=item["external_id"],
                url=item["url"],
                # normalised at intake already; again for chunks queued before that rule
                author_handle=normalise_handle(item["platform"], author["handle"]),
                author_name=author["name"],
                author_followers=author["followers"],
                author_verified=author["verified"],
                text=item["text"],
                language=language,
                language_confidence=result.language_confidence if result.ok else 0.0,
                published_at=item["published_at"],
                likes=engagement["likes"],
                shares=engagement["shares"],
                replies=engagement["replies"],
                views=engagement["views"],
                raw=_json(item["raw"]),
                matched_queries=sqlarrays.ints(matched),
                sentiment=result.sentiment if result.ok else "",
                sentiment_scores=_json(probabilities),
                provocation=result.provocation if result.ok else 0.0,
                triggers=sqlarrays.texts(triggers),
                scores=_json(result.stored_scores()),
                hashtags=sqlarrays.texts(hashtags),
                risk=result.risk if result.ok else 0,
                scorer_version=result.scorer_version,
            )
        )
        # ``_terms`` of the stored ``scores``: its entities are ``result.entities`` (none for
        # a failed result), each with its type and text.
        entities = result.entities if result.ok else ()
        terms = [e.text for e in entities if e.type == "term" and e.text]
        domains = [e.text for e in entities if e.type == "domain" and e.text]
        negative = float(probabilities.get("negative") or 0.0)
        known.append(_Known(matched, hashtags, terms, triggers, negative, domains))
    return rows, known


@dataclass(slots=True)
class _Counts:
    """The sums of one 5-minute bucket of one query (a ``MetricBucket`` row to add)."""

    mentions: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    reach: int = 0
    engagement: int = 0


def _rollup(tenant_id: int, inserted: list[Upserted]) -> None:
    totals: dict[tuple[int, datetime], _Counts] = defaultdict(_Counts)
    for upserted in inserted:
        bucket = _bucket(upserted.published_at)
        sentiment = upserted.sentiment
        for query_id in (0, *upserted.matched_queries):
            counts = totals[(query_id, bucket)]
            counts.mentions += 1
            counts.positive += sentiment == "positive"
            counts.neutral += sentiment == "neutral"
            counts.negative += sentiment == "negative"
            counts.reach += upserted.author_followers
            counts.engagement += upserted.engagement
    if not totals:
        return
    keys = sorted(totals)  # one lock order for every worker: no deadlocks between chunks
    rows = [totals[key] for key in keys]
    with connection.cursor() as cursor:
        cursor.execute(
            _ROLLUP,
            {
                "tenant": tenant_id,
                "query": sqlarrays.ints(key[0] for key in keys),
                "bucket": sqlarrays.times(key[1] for key in keys),
                "mentions": sqlarrays.ints(row.mentions for row in rows),
                "positive": sqlarrays.ints(row.positive for row in rows),
                "neutral": sqlarrays.ints(row.neutral for row in rows),
                "negative": sqlarrays.ints(row.negative for row in rows),
                "reach": sqlarrays.ints(row.reach for row in rows),
                "engagement": sqlarrays.ints(row.engagement for row in rows),
            },
        )


def _rollup_terms(tenant_id: int, inserted: list[Upserted]) -> None:
    """Hourly counts of mentions per hashtag and per tracked term, per query."""
    totals: dict[tuple[int, str, datetime, str], int] = defaultdict(int)
    for upserted in inserted:
        published_at, matched = upserted.published_at, upserted.matched_queries
        hour = published_at.replace(minute=0, second=0, microsecond=0)
        found = {("hashtag", tag[:200]) for tag in upserted.hashtags or ()}
        found |= {("term", text.lower()[:200]) for text in upserted.terms or ()}
        for query_id in (0, *matched):
            for kind, text in found:
                totals[(query_id, kind, hour, text)] += 1
    if not totals:
        return
    keys = sorted(totals)  # one lock order for every worker
    with connection.cursor() as cursor:
        cursor.execute(
            _TERM_ROLLUP,
            {
                "tenant": tenant_id,
                "query": sqlarrays.ints(k[0] for k in keys),
                "kind": sqlarrays.texts(k[1] for k in keys),
                "bucket": sqlarrays.times(k[2] for k in keys),
                "text": sqlarrays.texts(k[3] for k in keys),
                "mentions": sqlarrays.ints(totals[k] for k in keys),
            },
        )


def _store(
    tenant_id: int, batch_id: int, rows: list[MentionRow], known: list[_Known]
) -> list[Upserted]:
    """Stage the rows with COPY, insert the new ones and update the changed ones: the rows
    stored, inserted first. ``rows`` are sorted by (platform, external_id); ``known``: each
    row's ``_Known``."""
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor, for COPY into the session's temporary table
        raw.execute(_STAGE_DDL)
        # Empty even inside an outer transaction (a savepoint of ``_store_each`` left a row).
        # A DELETE, not a TRUNCATE: the table is empty at almost every call (its rows go at
        # commit), and a TRUNCATE gives it a new file every time.
        raw.execute("DELETE FROM sigap_mention_stage")
        with raw.copy(f"COPY sigap_mention_stage ({_NAMES}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(_INSERT, {"tenant": tenant_id, "batch": batch_id})
        inserted = cursor.fetchall()
        new = {(platform, external_id): (id_, at) for id_, at, platform, external_id in inserted}
        existing = [row for row in rows if (row.platform, row.external_id) not in new]
        updated = []
        if existing:
            cursor.execute(
                _UPDATE,
                {
                    "tenant": tenant_id,
                    "platform": [row.platform for row in existing],
                    "external_id": [row.external_id for row in existing],
                    "likes": [row.likes for row in existing],
                    "shares": [row.shares for row in existing],
                    "replies": [row.replies for row in existing],
                    "views": [row.views for row in existing],
                    "author_followers": [row.author_followers for row in existing],
                },
            )
            updated = cursor.fetchall()
    stored = []
    for row, extra in zip(rows, known, strict=True):
        returned = new.get((row.platform, row.external_id))
        if returned is not None:
            stored.append(
                Upserted(
                    True,
                    returned[1],
                    row.sentiment,
                    extra.matched_queries,
                    row.author_followers,
                    row.likes + row.shares + row.replies,
                    extra.hashtags,
                    extra.terms,
                    returned[0],
                    row.platform,
                    row.author_handle,
                    row.author_name,
                    row.external_id,
                )
            )
    return stored + [Upserted(False, *row) for row in updated]


def _refusal(item: QueuedItem, exc: Exception) -> dict[str, Any]:
    state = str(getattr(getattr(exc, "__cause__", None) or exc, "sqlstate", None) or "")
    return {"index": item.get("index", -1), "field": "", "message": REFUSALS.get(state, REFUSED)}


def _store_each(
    tenant_id: int,
    chunk: IngestChunk,
    items: list[QueuedItem],
    rows: list[MentionRow],
    known: list[_Known],
) -> tuple[list[Upserted], list[dict[str, Any]]]:
    """Store rows one by one, each in a savepoint; the stored rows and the refused items."""
    returned: list[Upserted] = []
    refused: list[dict[str, Any]] = []
    for item, row, extra in zip(items, rows, known, strict=True):
        try:
            with transaction.atomic():
                returned.extend(_store(tenant_id, chunk.batch_id, [row], [extra]))
        except ROW_ERRORS as exc:
            logger.warning(
                "item refused by the database",
                extra={
                    "tenant_id": tenant_id,
                    "batch_id": chunk.batch_id,
                    "chunk_id": chunk.pk,
                    "index": item.get("index"),
                    "error": str(exc),
                },
            )
            refused.append(_refusal(item, exc))
    return returned, refused


def process_chunk(tenant_id: int, chunk_id: int) -> dict[str, int]:
    """Score, match and store one chunk; idempotent. Returns what it did."""
    with transaction.atomic():
        # Lock this chunk only: not its batch, or chunks of one batch would run one at a time.
        chunk = (
            IngestChunk.objects.for_tenant(tenant_id)
            .select_for_update(of=("self",))
            .filter(pk=chunk_id)
            .order_by()
            .first()
        )
        if chunk is None or chunk.done_at is not None:
            return {"inserted": 0, "duplicates": 0, "skipped": 1}
        # the items stay in their chunk until this commit marks it done (tenants.commits)
        commit_without_flush()
        items = _unique(chunk.items)
        rows, known = _scored(tenant_id, items)
        refused: list[dict[str, Any]] = []
        try:
            with transaction.atomic():  # a savepoint: a refused row undoes only this attempt
                returned = _store(tenant_id, chunk.batch_id, rows, known)
        except ROW_ERRORS:
            returned, refused = _store_each(tenant_id, chunk, items, rows, known)
        inserted = [row for row in returned if row.inserted]
        _rollup(tenant_id, inserted)
        _rollup_terms(tenant_id, inserted)
        authors.add(tenant_id, inserted)
        tally.add(tenant_id, [(row.published_at, row.sentiment) for row in inserted])
        # An update may have lowered a follower count: those authors' hours are recounted.
        authors.refresh(
            tenant_id,
            [
                (row.platform, row.author_handle, row.published_at)
                for row in returned
                if not row.inserted
            ],
        )
        _publish(tenant_id, chunk.batch_id, returned, rows, known)
        duplicates = len(chunk.items) - len(inserted) - len(refused)
        IngestChunk.objects.for_tenant(tenant_id).filter(pk=chunk.pk).update(
            done_at=timezone.now(), items=[], inserted=len(inserted), duplicates=duplicates
        )
        _finish_chunk(tenant_id, chunk.batch_id, len(inserted), duplicates, refused)
    return {
        "inserted": len(inserted),
        "duplicates": duplicates,
        "refused": len(refused),
        "skipped": 0,
    }


def _publish(
    tenant_id: int,
    batch_id: int,
    returned: list[Upserted],
    rows: list[MentionRow],
    known: list[_Known],
) -> None:
    """Write the chunk's outbox row (one INSERT, plus its delivery task when anybody listens).

    Delivered at once after the commit, in this worker, when no other worker is busy with the
    tenant's early warning (``outbox.deliver_at_once``): chunks are judged while the stream is
    stored, by the workers storing it, rather than after every chunk queued before them. For
    that delivery the chunk's inserted mentions are left in this process after the commit
    (``_handoff``), so early warning need not read back what the chunk just wrote."""
    if not returned:
        return  # nothing inserted, nothing changed: nothing to tell
    event = PipelineEvent(
        tenant_id=tenant_id,
        batch_id=batch_id,
        query_ids=sorted({query_id for row in returned for query_id in row.matched_queries}),
        buckets=sorted({_bucket(row.published_at) for row in returned if row.inserted}),
        inserted_ids=[row.id for row in returned if row.inserted],
        updated_ids=[row.id for row in returned if not row.inserted],
    )
    topic = PipelineEvent._meta.label_lower
    stored = (
        _stored_mentions(returned, rows, known)
        if event.inserted_ids and outbox.subscribers(topic)
        else None
    )
    if stored is not None:
        # registered before the delivery's own callback (``outbox.publish``): callbacks run in
        # order, so the delivery at once finds them
        transaction.on_commit(partial(_keep, event, stored))
    outbox.publish(event, deliver_after_commit=True)


# --- the hand-off of a chunk's inserted mentions to its delivery in this process -------------


class StoredMention(NamedTuple):
    """An inserted mention as the chunk stored it: the columns (and the two values cut out of
    the score documents) that ``monitoring.early_warning.live.load_mentions`` reads back, in the
    order of its ``_FIELDS``, with the values it would read."""

    id: int
    platform: str
    external_id: str
    published_at: datetime
    ingested_at: datetime
    text: str
    author_handle: str
    author_followers: int
    author_verified: bool
    likes: int
    shares: int
    replies: int
    language: str
    sentiment: str
    provocation: float
    triggers: list[str]
    matched_queries: list[int]
    negative: float  # coalesce((sentiment_scores ->> 'negative')::float8, 0)
    domain_texts: list[str]  # the non-empty texts of the ``domain`` entities of ``scores``


# (tenant, event id) -> (when it committed, monotonic; the event's inserted mentions). A few
# chunks at most: an entry is taken by the delivery right after the commit, and one whose
# event another worker delivered is pushed out by the next chunks.
_handoff: dict[tuple[int, int], tuple[float, list[StoredMention]]] = {}
_handoff_lock = threading.Lock()
HANDOFF_KEEP = 8
# An entry older than this is not used: its mentions are read from the database (where a later
# chunk may have updated their engagement).
HANDOFF_TTL_S = 30.0


def _keep(event: PipelineEvent, stored: list[StoredMention]) -> None:
    """After the commit: leave the chunk's inserted mentions for its delivery in this process."""
    with _handoff_lock:  # a worker with threads
        while len(_handoff) >= HANDOFF_KEEP:
            del _handoff[next(iter(_handoff))]  # the oldest
        _handoff[(event.tenant_id, event.pk)] = (time.monotonic(), stored)


def take_inserted(event: PipelineEvent) -> list[StoredMention] | None:
    """The event's inserted mentions as its chunk stored them, when the chunk committed in this
    process moments ago (taken: a second call returns None); None otherwise (read them from the
    database)."""
    with _handoff_lock:
        entry = _handoff.pop((event.tenant_id, event.pk), None)
    if entry is None:
        return None
    at, stored = entry
    if time.monotonic() - at > HANDOFF_TTL_S:
        return None
    if sorted(m.id for m in stored) != sorted(event.inserted_ids):
        return None
    return stored


def _stored_mentions(
    returned: list[Upserted], rows: list[MentionRow], known: list[_Known]
) -> list[StoredMention]:
    """The inserted rows as ``StoredMention``: the values written (``rows`` and, as lists, their
    ``known``) and returned by the INSERT (``returned``), at the transaction's time
    (``ingested_at = now()``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")  # what ``_INSERT`` stored as ``ingested_at``
        now = cursor.fetchone()[0]
    by_key = {
        (row.platform, row.external_id): (row, extra)
        for row, extra in zip(rows, known, strict=True)
    }
    out = []
    for upserted in returned:
        if not upserted.inserted:
            continue
        row, extra = by_key[(upserted.platform, upserted.external_id)]
        out.append(
            StoredMention(
                upserted.id,
                row.platform,
                row.external_id,
                upserted.published_at,
                now,
                row.text,
                row.author_handle,
                row.author_followers,
                row.author_verified,
                row.likes,
                row.shares,
                row.replies,
                row.language,
                row.sentiment,
                float(row.provocation),
                extra.triggers,
                upserted.matched_queries,
                extra.negative,
                extra.domains,
            )
        )
    return out


def _finish_chunk(
    tenant_id: int, batch_id: int, inserted: int, duplicates: int, refused: list[dict[str, Any]]
) -> None:
    with connection.cursor() as cursor:
        if refused:
            cursor.execute(
                """
                UPDATE monitoring_source SET
                    accepted_count = greatest(accepted_count - %(n)s, 0),
                    rejected_count = rejected_count + %(n)s
                WHERE tenant_id = %(tenant)s AND id = (
                    SELECT source_id FROM monitoring_ingestbatch
                    WHERE tenant_id = %(tenant)s AND id = %(batch)s)
                """,
                {"n": len(refused), "batch": batch_id, "tenant": tenant_id},
            )
        cursor.execute(
            """
            UPDATE monitoring_ingestbatch SET
                rejected = rejected || %(refused)s::jsonb,
                chunks_done = chunks_done + 1,
                inserted_count = inserted_count + %(inserted)s,
                duplicate_count = duplicate_count + %(duplicates)s,
                status = CASE WHEN chunks_done + 1 >= chunk_count THEN %(done)s ELSE %(busy)s END,
                finished_at = CASE WHEN chunks_done + 1 >= chunk_count THEN now() END
            WHERE tenant_id = %(tenant)s AND id = %(batch)s
            """,
            {
                "tenant": tenant_id,
                "inserted": inserted,
                "duplicates": duplicates,
                "refused": json.dumps(refused),
                "batch": batch_id,
                "done": BatchStatus.DONE,
                "busy": BatchStatus.PROCESSING,
            },
        )


def mark_failed(tenant_id: int, chunk_id: int, error: str) -> None:
    """Record a chunk's final failure on its batch (after the last attempt).

    The batch shows a stable code and message; ``error`` (django-q2's traceback, with server
    paths and database messages) goes to the log only.
    """
    logger.error(
        "chunk failed after its last attempt",
        extra={"tenant_id": tenant_id, "chunk_id": chunk_id, "error": error},
    )
    batch_ids = IngestChunk.objects.for_tenant(tenant_id).filter(pk=chunk_id).values("batch_id")
    IngestBatch.objects.for_tenant(tenant_id).filter(pk__in=batch_ids).update(
        status=BatchStatus.FAILED, error=FAILED.format(chunk=chunk_id)
    )
