"""Live evaluation of a tenant's alert rules as pipeline chunks commit, and the sweep.

``on_pipeline_event`` is the outbox subscriber (``tenants.outbox``; registered in
``MonitoringConfig.ready`` as ``early_warning``, a *batch* subscriber). It runs in the
delivery's transaction, after the claims of (event, subscriber), so its writes (detector state,
clusters, snapshots, alerts) commit exactly once per chunk: a worker killed in between leaves no
claim and no alert, and the events are delivered again. A delivery takes the tenant's pending
chunks with it (up to ``BATCH_EVENTS`` events and ``BATCH_MENTIONS`` mentions) and judges them
as one chunk, at the newest one's commit: a backlog drains in a few deliveries instead of
paying each delivery's fixed cost per chunk. The evaluations of one tenant take a
transaction-scoped advisory lock, so chunks handled by two workers at once are judged one after
the other (one spike, one alert; one cluster however the copies were spread over workers).

What each kind reads (never weeks of history per evaluation):

* **series rules** (``spike``: mentions, ``negative-surge``: negative mentions,
  ``provocation-burst``: provocative mentions), per (rule, query) series: the counts of the
  chunk's new mentions per 5-minute bucket are added to the series' state (``DetectorState``:
  the detector's JSON and the counts of buckets still open). Buckets that have closed are
  learnt (``SpikeDetector.observe``), the bucket filling now is judged at once (``peek``), so the
  mention that tips a spike fires it. A new series starts from the stored 5-minute rollups of
  the last 7 days (once; provocation has no rollup and starts empty; a negative-surge series
  reads them only from the tenant's last scoring-model change, ``classifier.scores_since``,
  and a model change restarts both score-counting series). Counts that arrive for a
  bucket the series has already learnt still count in the rollups, not in the baseline.
  A negative-surge series also counts every mention per bucket and judges the negative share
  against its usual share, as the offline replay does (``surge.UsualShare``/``judge_share``).
* **mention rules** (``hoax-spread``, ``owned-account``, ``influential-author``,
  ``trigger-keywords``) read the chunk's new mentions; hoax clusters live in ``HoaxMember`` /
  ``HoaxBand`` / ``HoaxCluster``, owned-account profiles on ``OwnedAccount``, keyword hits in
  ``DetectorState``.
* **velocity** reads the ``EngagementSnapshot`` rows written here for the chunk's *updated*
  mentions: only sources that re-deliver items feed it. A mention in a hoax cluster is judged
  with its cluster (the members' summed engagement, their stored snapshots), under the
  cluster's key.

**Backfill rule**: a mention published more than two hours before it was ingested updates the
rollups, the baselines, clusters and profiles, and never fires; a bucket that ended more than
two hours ago is learnt and never judged.

``sweep`` (every minute) closes the buckets of series that received nothing (windows closing
with zero data, episodes calming down) and wakes expired snoozes; ``prune`` (hourly) deletes
band hashes, members and snapshots past their window.
"""

from __future__ import annotations

import json
import logging
import os
import time
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

import numpy as np
from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from monitoring import sqlarrays
from monitoring.alerting.author import AuthorConfig, InfluentialAuthor
from monitoring.alerting.hoax import HOAX_PRESETS, band_hashes, hash_values, outgrows_chatter
from monitoring.alerting.keywords import KeywordConfig, TriggerKeywords
from monitoring.alerting.mentions import MentionEvent
from monitoring.alerting.owned import OwnedAccounts, OwnedConfig, Profile, account_key
from monitoring.alerting.spike import SpikeConfig, SpikeDetector
from monitoring.alerting.surge import (
    BURST_PRESETS,
    UsualShare,
    judge_share,
    share_alert,
    share_widths,
)
from monitoring.alerting.types import Alert as Detected
from monitoring.alerting.types import MentionRef, as_utc, iso, score_from_ratio
from monitoring.alerting.velocity import Member, Point, VelocityConfig, judge_cluster
from monitoring.alerting.velocity import judge as judge_velocity
from monitoring.choices import AlertKind, AlertStatus
from monitoring.early_warning import services
from monitoring.models import (
    Alert,
    AlertRule,
    DetectorState,
    EngagementSnapshot,
    HoaxBand,
    HoaxCluster,
    HoaxClusterAuthor,
    HoaxMember,
    LowCredibilityDomain,
    Mention,
    MetricBucket,
    OwnedAccount,
    PipelineEvent,
)

logger = logging.getLogger("sigap.alerts")

SUBSCRIBER = "early_warning"
BUCKET = timedelta(minutes=5)
BACKFILL = timedelta(hours=2)
# A bucket is learnt once it ended this long ago: counts still arriving for it (a chunk in
# flight when the bucket turned) are not lost to the baseline.
SETTLE = timedelta(seconds=60)
# A chunk is judged at the time it committed (its event's ``created_at``), so a backlog of
# chunks does not settle buckets ahead of the chunks still queued; at most this far back.
LAG_LIMIT = timedelta(minutes=30)
BOOTSTRAP = timedelta(days=7)
SNAPSHOT_KEEP = timedelta(days=2)
DEFAULT_HOAX_WINDOW = timedelta(hours=24)
LOCK_NAMESPACE = 0x51A7  # pg_advisory_xact_lock(namespace, tenant id)
# One delivery judges at most this many pending chunks, with at most this many mentions (the
# first chunk always): a backlog drains without one huge transaction under the tenant's lock.
BATCH_EVENTS = 20
BATCH_MENTIONS = 2000
SAMPLES = 10
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SERIES_KINDS = (AlertKind.SPIKE, AlertKind.NEGATIVE_SURGE, AlertKind.PROVOCATION_BURST)
MENTION_KINDS = (
    AlertKind.HOAX_SPREAD,
    AlertKind.OWNED_ACCOUNT,
    AlertKind.INFLUENTIAL_AUTHOR,
    AlertKind.TRIGGER_KEYWORDS,
)
ROLLUP_COLUMN = {AlertKind.SPIKE: "mentions", AlertKind.NEGATIVE_SURGE: "negative"}
UNIT = {
    AlertKind.SPIKE: "mentions",
    AlertKind.NEGATIVE_SURGE: "negative mentions",
    AlertKind.PROVOCATION_BURST: "provocative mentions",
}
# Band hashes are stored with one LSH banding for every sensitivity; each rule then keeps the
# candidates that reach its own threshold. 16 bands of 3 rows find a pair of copies of Jaccard
# 0.4 (the most sensitive preset) with probability 1 - (1 - 0.4^3)^16 = 0.65, 0.5 with 0.88 and
# 0.6 with 0.98 (32 bands of 4 rows, before migration 0026: 0.56, 0.87, 0.99) from half the
# band rows per mention; ``benchmarks/alerts_hoax.py --live-bands`` gives both the same overall
# cluster precision and recall at every sensitivity (docs/performance.md).
HOAX_BANDS, HOAX_ROWS = 16, 3
_BAND_INDEXES = range(HOAX_BANDS)
HOAX_SIGNATURE_BYTES = 8 * 128  # NUM_PERM unsigned 64-bit hash values
HOAX_JUDGE_CAP = 1000  # members of one cluster read per chunk to judge it (``_ACTIVE_MEMBERS``)


# --- the subscriber -----------------------------------------------------------------------


def on_pipeline_event(events: Sequence[PipelineEvent]) -> None:
    """The outbox subscriber: evaluate the pending chunks (oldest first) as one, judged at the
    newest one's commit (see the module docstring)."""
    newest = max(event.created_at for event in events)
    evaluate(events=events, now=max(newest, timezone.now() - LAG_LIMIT))
    hang = os.environ.get("SIGAP_TEST_ALERTS_HANG")
    if hang:  # tests only: stop here with the transaction open, to be killed (kill test)
        Path(hang).touch()
        time.sleep(3600)


@dataclass
class LiveMention:
    """A stored mention as the live rules see it."""

    id: int
    event: MentionEvent
    ingested_at: datetime
    matched_queries: list[int]

    @property
    def backfill(self) -> bool:
        return self.ingested_at - self.event.published_at > BACKFILL

    def in_query(self, query_id: int | None) -> bool:
        return not query_id or query_id in self.matched_queries


# What to do with the outcomes of a batch of firings once they are stored (``fire_many``).
Then = Callable[[list[services.Fired]], None]


@dataclass
class Evaluation:
    fired: int = 0
    merged: int = 0
    mentions: int = 0
    snapshots: int = 0
    # Firings held until ``flush`` (``evaluate``: the chunk's alerts of every rule stored in one
    # batch), each batch with what to do with its outcomes; None: ``fire_many`` stores at once.
    held: list[tuple[list[services.Firing], Then | None]] | None = None

    def add(self, result: services.Fired) -> None:
        if result.created:
            self.fired += 1
        elif result.merged:
            self.merged += 1


def lock_tenant(tenant_id: int) -> None:
    """Judge one tenant's chunks one at a time (until the transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, tenant_id])


def enabled_rules(tenant_id: int) -> list[AlertRule]:
    """The tenant's enabled rules (index ``alert_rule_enabled``)."""
    return list(AlertRule.objects.for_tenant(tenant_id).filter(enabled=True).order_by("id"))


def evaluate(*, events: Sequence[PipelineEvent], now: datetime | None = None) -> Evaluation:
    """Evaluate the tenant's enabled rules for committed chunks (``events`` of one tenant) as
    one: their inserted mentions together, in published order, and their updated mentions once
    each."""
    now = now or timezone.now()
    tenant_id = events[0].tenant_id
    inserted = sorted({pk for e in events for pk in e.inserted_ids})
    updated = sorted({pk for e in events for pk in e.updated_ids})
    result = Evaluation(held=[])
    # taken now, used or not: an entry is used once
    handed = _handed(events)
    rules = enabled_rules(tenant_id)
    if not rules and not updated:
        return result
    lock_tenant(tenant_id)
    points: dict[int, list[Point]] = {}
    if updated:
        points = snapshot_engagement(tenant_id, updated, now)
        result.snapshots = len(updated)
    if not rules:
        return result
    kinds = {rule.kind for rule in rules}
    mentions: list[LiveMention] = []
    if inserted and kinds & {*SERIES_KINDS, *MENTION_KINDS}:
        mentions = chunk_mentions(tenant_id, events, handed)
        result.mentions = len(mentions)
    series = [rule for rule in rules if rule.kind in SERIES_KINDS]
    if series and mentions:
        evaluate_series(tenant_id, series, mentions, now, result)
    if mentions:
        by_kind: dict[str, list[AlertRule]] = defaultdict(list)
        for rule in rules:
            by_kind[rule.kind].append(rule)
        if by_kind[AlertKind.HOAX_SPREAD]:
            evaluate_hoax(tenant_id, by_kind[AlertKind.HOAX_SPREAD], mentions, result)
        if by_kind[AlertKind.OWNED_ACCOUNT]:
            evaluate_owned(tenant_id, by_kind[AlertKind.OWNED_ACCOUNT][0], mentions, result)
        for rule in by_kind[AlertKind.INFLUENTIAL_AUTHOR]:
            evaluate_author(rule, mentions, result)
        for rule in by_kind[AlertKind.TRIGGER_KEYWORDS]:
            evaluate_keywords(rule, mentions, result)
    velocity = [rule for rule in rules if rule.kind == AlertKind.VELOCITY]
    if velocity and points:
        evaluate_velocity(tenant_id, velocity, points, result, now)
    flush(result)
    return result


# --- mentions -----------------------------------------------------------------------------


def _handed(events: Sequence[PipelineEvent]) -> dict[int, list[Any]]:
    """The inserted mentions that the events' chunks left in this process as they stored them
    (``pipeline.take_inserted``), by event id."""
    from monitoring.pipeline import take_inserted

    out: dict[int, list[Any]] = {}
    for event in events:
        stored = take_inserted(event)
        if stored is not None:
            out[event.pk] = stored
    return out


_FIELDS = (
    "id",
    "platform",
    "external_id",
    "published_at",
    "ingested_at",
    "text",
    "author_handle",
    "author_followers",
    "author_verified",
    "likes",
    "shares",
    "replies",
    "language",
    "sentiment",
    "provocation",
    "triggers",
    "matched_queries",
    "negative",
    "domain_texts",
)
# What the rules need of the two score documents, cut out in SQL: the negative probability and
# the texts of the ``domain`` entities, instead of both whole JSON documents parsed per mention.
_SCORE_PARTS = {
    "negative": RawSQL("coalesce((sentiment_scores ->> 'negative')::float8, 0)", ()),
    "domain_texts": RawSQL(
        """ARRAY(SELECT e ->> 'text' FROM jsonb_array_elements(
            CASE jsonb_typeof(scores -> 'entities') WHEN 'array' THEN scores -> 'entities'
            ELSE '[]'::jsonb END) AS e
            WHERE e ->> 'type' = 'domain' AND e ->> 'text' <> '')""",
        (),
    ),
}


def load_mentions(tenant_id: int, ids: Sequence[int]) -> list[LiveMention]:
    """The chunk's new mentions in published order (primary key)."""
    rows = (
        Mention.objects.for_tenant(tenant_id)
        .filter(pk__in=list(ids))
        .annotate(**_SCORE_PARTS)
        .values_list(*_FIELDS)
    )
    return live_mentions(rows)


def live_mentions(rows: Iterable[Sequence[Any]]) -> list[LiveMention]:
    """Mentions read in ``_FIELDS`` order (the database's rows, or the chunk's own
    ``pipeline.StoredMention``) as the rules see them, in published order (primary key)."""
    out = []
    for (  # in ``_FIELDS`` order
        pk,
        platform,
        external_id,
        published_at,
        ingested_at,
        text,
        author_handle,
        author_followers,
        author_verified,
        likes,
        shares,
        replies,
        language,
        sentiment,
        provocation,
        triggers,
        matched_queries,
        negative,
        domain_texts,
    ) in rows:
        domains = sorted({d.lower().removeprefix("www.") for d in domain_texts})
        event = MentionEvent(
            platform=platform,
            external_id=external_id,
            published_at=as_utc(published_at),
            text=text,
            author=author_handle,
            followers=author_followers,
            verified=author_verified,
            engagement=likes + shares + replies,
            language=language,
            sentiment=sentiment or "neutral",
            negative=float(negative),
            provocation=float(provocation or 0.0),
            triggers=tuple(triggers or ()),
            domains=tuple(domains),
            queries=tuple(matched_queries or ()),
        )
        out.append(LiveMention(pk, event, as_utc(ingested_at), matched_queries))
    out.sort(key=lambda m: (m.event.published_at, m.id))
    return out


def chunk_mentions(
    tenant_id: int, events: Sequence[PipelineEvent], handed: dict[int, list[Any]] | None = None
) -> list[LiveMention]:
    """The events' inserted mentions in published order: those that their chunk left in this
    process (``handed``, ``_handed``: the values the database holds, not read back), the others
    read (``load_mentions``). A chunk's mentions that an event of the batch updated since are
    read, as they are now."""
    handed = handed or {}
    updated = {pk for event in events for pk in event.updated_ids}
    kept: list[Any] = []
    read: set[int] = set()
    for event in events:
        stored = handed.get(event.pk)
        if stored is not None and not updated.intersection(event.inserted_ids):
            kept.extend(stored)
        else:
            read.update(event.inserted_ids)
    if read:
        kept = [m for m in kept if m[0] not in read]
    if not kept:
        return load_mentions(tenant_id, sorted(read))
    if not read:
        return live_mentions(kept)
    out = live_mentions(kept) + load_mentions(tenant_id, sorted(read))
    out.sort(key=lambda m: (m.event.published_at, m.id))
    return out


def fire(
    rule: AlertRule,
    detected: Detected,
    result: Evaluation,
    *,
    key: str,
    mention_ids: Sequence[int] = (),
    authors: Sequence[str] = (),
    cluster: HoaxCluster | None = None,
    title: str = "",
) -> services.Fired:
    firing = services.Firing(rule, detected, key, mention_ids, authors, cluster, title)
    return _store([firing], result)[0]


def fire_many(
    firings: Sequence[services.Firing], result: Evaluation, then: Then | None = None
) -> None:
    """Store or merge several detections at once, then hand their outcomes to ``then``; while
    ``result`` holds firings (``evaluate``), both wait for ``flush``."""
    if result.held is not None:
        result.held.append((list(firings), then))
        return
    fired = _store(firings, result)
    if then is not None:
        then(fired)


def flush(result: Evaluation) -> None:
    """Store the held firings of every rule in one batch, in the order they were found (a later
    one of an episode merges into the alert an earlier one opened, as in separate batches), and
    hand each batch's outcomes to its ``then``."""
    held, result.held = result.held or [], None
    fired = _store([firing for firings, _ in held for firing in firings], result)
    start = 0
    for firings, then in held:
        if then is not None:
            then(fired[start : start + len(firings)])
        start += len(firings)


def _store(firings: Sequence[services.Firing], result: Evaluation) -> list[services.Fired]:
    """``services.fire_or_merge_many`` in the delivery's (or the sweep's) transaction: no
    savepoint of its own."""
    fired = services.fire_or_merge_many(firings, savepoint=False)
    for firing, outcome in zip(firings, fired, strict=True):
        result.add(outcome)
        if outcome.created:
            logger.info(
                "alert fired",
                extra={
                    "tenant_id": firing.rule.tenant_id,
                    "alert_id": outcome.alert.pk,
                    "rule": firing.rule.kind,
                    "key": firing.key,
                },
            )
    return fired


# --- series rules ---------------------------------------------------------------------------


def floor_bucket(moment: datetime) -> datetime:
    seconds = int((moment - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=seconds - seconds % int(BUCKET.total_seconds()))


def series_config(rule: AlertRule) -> SpikeConfig:
    return SpikeConfig(
        rule=rule.kind,
        sensitivity=rule.sensitivity,
        window=rule.window,
        cooldown=rule.cooldown,
        severity=rule.severity or None,
        thresholds=(
            BURST_PRESETS[rule.sensitivity] if rule.kind == AlertKind.PROVOCATION_BURST else None
        ),
        unit=UNIT[AlertKind(rule.kind)],
    )


# The series kinds that count only some mentions, and which; the others count every mention.
_COUNTED: dict[str, Callable[[LiveMention], bool]] = {
    AlertKind.NEGATIVE_SURGE: lambda mention: mention.event.is_negative,
    AlertKind.PROVOCATION_BURST: lambda mention: mention.event.provocative,
}


@dataclass
class Advanced:
    """What ``advance`` did to one series: its new state, when the sweep is next due, and the
    alerts it fired."""

    state: dict[str, Any]
    due_at: datetime | None
    alerts: list[Detected]


def advance(
    config: SpikeConfig,
    state: dict[str, Any] | None,
    counts: dict[datetime, int],
    now: datetime,
    series: str = "",
    totals: dict[datetime, int] | None = None,
) -> Advanced:
    """One series' step: add ``counts`` (per bucket start) to the open buckets, learn every
    bucket that has settled (ended ``SETTLE`` ago; judging those that ended within the backfill
    limit), then judge the open buckets at once: the one filling now with ``peek``, a previous
    one still settling on a copy first (kept only when it fires). Pure: no database.

    A negative-surge series (``config.rule``) also keeps every bucket's *total* (``totals``:
    all the series' mentions, negative or not) and judges the negative share as the offline
    replay does (``surge.UsualShare``, ``surge.judge_share``): when the count does not fire and
    new negatives arrived (``counts``), the share of the windows ending with the bucket filling
    now against the usual share. Both tests share one cooldown."""
    share_rule = config.rule == AlertKind.NEGATIVE_SURGE
    widths = share_widths(config.window)
    if state:
        detector = SpikeDetector.from_dict(state["detector"], config, BUCKET, series)
        pending = {as_utc(datetime.fromisoformat(k)): v for k, v in state["pending"].items()}
        pending_total = {
            as_utc(datetime.fromisoformat(k)): v for k, v in state.get("totals", {}).items()
        }
        usual = UsualShare.from_dict(state.get("share") or {}, max(widths))
    else:
        detector = SpikeDetector(config, BUCKET, series)
        pending, pending_total, usual = {}, {}, UsualShare(max(widths))
    learnt_until = _learnt_until(detector)
    current = floor_bucket(now)
    settled = floor_bucket(now - SETTLE)  # buckets before this one have settled
    for source, into in ((counts, pending), (totals or {}, pending_total)):
        for start, count in source.items():
            if (learnt_until is not None and start < learnt_until) or start > current + BUCKET:
                continue  # already learnt (late data stays in the rollups only), or far future
            into[start] = into.get(start, 0) + count
    alerts: list[Detected] = []
    for start in sorted({*pending, *pending_total}):
        if start >= settled:
            break
        negative = pending.pop(start, 0)
        total = pending_total.pop(start, 0)
        alert = detector.observe(start, negative, judge=start + BUCKET > now - BACKFILL)
        if share_rule:
            usual.close(start, negative, total)
        if alert is not None:
            alerts.append(alert)
    learnt_until = _learnt_until(detector)
    if learnt_until is not None and learnt_until < settled:
        # no data since: the empty buckets close (windows with zero data, calming episodes)
        detector.observe(settled - BUCKET, 0.0)
        if share_rule:
            usual.close(settled - BUCKET, 0, 0)
    still_open = sorted(start for start in {*pending, *pending_total} if start <= current)
    if still_open:
        trial = detector
        trial_usual = usual
        if len(still_open) > 1:
            trial = SpikeDetector.from_dict(detector.to_dict(), config, BUCKET, series)
            trial_usual = usual.copy()
        found = []
        for start in still_open[:-1]:
            alert = trial.observe(start, pending.get(start, 0))
            trial_usual.close(start, pending.get(start, 0), pending_total.get(start, 0))
            if alert is not None:
                found.append(alert)
        last = still_open[-1]
        alert = trial.peek(last, pending.get(last, 0))
        if alert is not None:
            found.append(alert)
        if share_rule and not found and counts and last + BUCKET > now - BACKFILL:
            shared = _judge_share(config, trial, trial_usual, pending, pending_total, last, now)
            if shared is not None:
                found.append(shared)
        if found and trial is not detector:
            detector = trial  # what fired is learnt now; later counts of it stay in the rollups
            usual = trial_usual
            for start in still_open[:-1]:
                pending.pop(start, None)
                pending_total.pop(start, None)
        alerts.extend(found)
    if share_rule:
        alerts = [
            a if a.details.get("test") else replace(a, details={**a.details, "test": "count"})
            for a in alerts
        ]
    new_state: dict[str, Any] = {
        "detector": detector.to_dict(),
        "pending": {iso(k): v for k, v in sorted(pending.items())},
    }
    if share_rule:
        new_state["totals"] = {iso(k): v for k, v in sorted(pending_total.items())}
        new_state["share"] = usual.to_dict()
    due = None
    if detector.origin is not None or pending or pending_total:
        due = min([*pending, *pending_total, current]) + BUCKET + SETTLE
    return Advanced(new_state, due, alerts)


def judge_share_bucket(
    config: SpikeConfig,
    detector: SpikeDetector,
    usual: UsualShare,
    start: datetime,
    negative: int,
    total: int,
) -> Detected | None:
    """The share test of one bucket on its final counts (the backtest of stored rollups)."""
    alert = _judge_share(config, detector, usual, {start: negative}, {start: total}, start, start)
    return None if alert is None else replace(alert, window_end=start + BUCKET)


def _judge_share(
    config: SpikeConfig,
    detector: SpikeDetector,
    usual: UsualShare,
    pending: dict[datetime, int],
    pending_total: dict[datetime, int],
    start: datetime,
    now: datetime,
) -> Detected | None:
    """The share test of the bucket filling now (``start``), gated as the count test is: the
    series' warm-up, and the cooldown of the last alert (count or share)."""
    if detector.baseline.n * BUCKET < config.warmup:
        return None
    if detector.cooldown_until is not None and now < detector.cooldown_until:
        return None
    windows = usual.windows(
        share_widths(config.window), pending.get(start, 0), pending_total.get(start, 0)
    )
    decision = judge_share(usual, windows, config.sensitivity)
    if decision is None:
        return None
    cooldown_until = now + config.cooldown
    detector.cooldown_until = cooldown_until  # one cooldown for both tests, as offline
    detector.episode += 1
    return share_alert(
        decision,
        rule=config.rule,
        sensitivity=config.sensitivity,
        severity=config.severity,
        now=now,
        cooldown_until=cooldown_until,
        dedupe_key=f"{config.rule}:{detector.series}:{detector.episode}",
    )


def _learnt_until(detector: SpikeDetector) -> datetime | None:
    if detector.origin is None:
        return None
    return detector.origin + (detector.last_index + 1) * BUCKET


def bootstrap_counts(
    tenant_id: int, rule: AlertRule, now: datetime, column: str | None = None
) -> dict[datetime, int]:
    """A new series' history: the stored 5-minute rollups of the last 7 days (once); the
    rule's own column, or ``column`` (a negative-surge series' totals read ``mentions``)."""
    column = column or ROLLUP_COLUMN.get(AlertKind(rule.kind))
    if column is None:
        return {}
    since = now - BOOTSTRAP
    if rule.kind == AlertKind.NEGATIVE_SURGE:
        # sentiments scored by another model are not this baseline's (monitoring.classifier)
        from monitoring.classifier import scores_since

        epoch = scores_since(tenant_id)
        if epoch is not None and epoch > since:
            since = epoch
    rows = (
        MetricBucket.objects.for_tenant(tenant_id)
        .filter(query_id=rule.query_id or 0, bucket__gte=since, bucket__lte=now)
        .values_list("bucket", column)
    )
    return {as_utc(bucket): count for bucket, count in rows if count}


# Every changed series' new state in one statement (``evaluate_series``).
_STATE_UPDATE = """
    UPDATE monitoring_detectorstate s SET state = u.state, due_at = u.due_at, updated_at = now()
    FROM unnest(%(id)s::bigint[], %(state)s::jsonb[], %(due_at)s::timestamptz[])
        AS u(id, state, due_at)
    WHERE s.tenant_id = %(tenant)s AND s.id = u.id
"""


def save_states(tenant_id: int, states: list[DetectorState]) -> None:
    """Write series states: the stored ones in one UPDATE, the new ones in one INSERT."""
    stored = [state for state in states if state.pk is not None]
    if stored:
        with connection.cursor() as cursor:
            cursor.execute(
                _STATE_UPDATE,
                {
                    "tenant": tenant_id,
                    "id": [state.pk for state in stored],
                    "state": [json.dumps(state.state) for state in stored],
                    "due_at": [state.due_at for state in stored],
                },
            )
    new = [state for state in states if state.pk is None]
    if new:
        DetectorState.objects.bulk_create(new)


def evaluate_series(
    tenant_id: int,
    rules: list[AlertRule],
    mentions: list[LiveMention],
    now: datetime,
    result: Evaluation,
) -> None:
    changed: list[DetectorState] = []
    firings: list[services.Firing] = []
    states = {
        (state.rule_id, state.series): state
        for state in DetectorState.objects.for_tenant(tenant_id)
        .filter(rule__in=[rule.pk for rule in rules])
        .order_by("id")
        .select_for_update()
    }
    # mention id -> its bucket, once for every rule
    bucket_of = {m.id: floor_bucket(m.event.published_at) for m in mentions}
    for rule in rules:
        key = f"q{rule.query_id or 0}"
        counts: dict[datetime, int] = defaultdict(int)
        in_query = (
            mentions if not rule.query_id else [m for m in mentions if m.in_query(rule.query_id)]
        )
        counted = _COUNTED.get(rule.kind)
        members = in_query if counted is None else [m for m in in_query if counted(m)]
        for mention in members:
            counts[bucket_of[mention.id]] += 1
        # a negative surge also judges the share: every mention of the series counts in totals
        totals: dict[datetime, int] | None = None
        if rule.kind == AlertKind.NEGATIVE_SURGE:
            totals = defaultdict(int)
            for mention in in_query:
                totals[bucket_of[mention.id]] += 1
        stored = states.get((rule.pk, key))
        if stored is None:
            history = bootstrap_counts(tenant_id, rule, now)
            if history or rule.kind in ROLLUP_COLUMN:
                counts = defaultdict(int, history)  # the rollups hold this chunk already
                if totals is not None:
                    totals = defaultdict(int, bootstrap_counts(tenant_id, rule, now, "mentions"))
            stored = DetectorState(tenant_id=tenant_id, rule=rule, series=key, state={})
        elif not counts and not totals:
            continue
        step = advance(series_config(rule), stored.state or None, counts, now, key, totals)
        stored.state = step.state
        stored.due_at = step.due_at
        changed.append(stored)
        for detected in step.alerts:
            ids = [m.id for m in members if detected.window_start <= m.event.published_at]
            ids = ids[-SAMPLES:] or sample_mentions(tenant_id, rule, detected)
            firings.append(services.Firing(rule, detected, f"{rule.kind}:{key}", ids))
    fire_many(firings, result)
    save_states(tenant_id, changed)


def sample_mentions(tenant_id: int, rule: AlertRule, detected: Detected) -> list[int]:
    """The widest-reaching mentions of the alert's window (index ``mention_by_reach``)."""
    rows = Mention.objects.for_tenant(tenant_id).filter(
        published_at__gte=detected.window_start, published_at__lt=detected.window_end
    )
    if rule.query_id:
        rows = rows.filter(matched_queries__contains=[rule.query_id])
    if rule.kind == AlertKind.NEGATIVE_SURGE:
        rows = rows.filter(sentiment="negative")
    return list(rows.order_by("-author_followers").values_list("id", flat=True)[:SAMPLES])


# --- hoax spread ----------------------------------------------------------------------------


def _hoax_settings(rules: list[AlertRule]) -> tuple[float, timedelta]:
    threshold = min(HOAX_PRESETS[rule.sensitivity][0] for rule in rules)
    window = max(rule.window for rule in rules)
    return threshold, window


# Whole columns go as array literals (``monitoring.sqlarrays``): psycopg would adapt a list of
# 16,000 band hashes element by element in Python.
# One row per (tenant, band hash): the latest member with that band value. A new mention meets
# at most one earlier member per band (the latest), however many copies a campaign has had:
# the cost per mention stays bounded as clusters grow. A later-published row wins (a backfill
# does not displace newer members). The chunk's hashes go deduplicated (one row each), each
# with the position of its member in the columns of the members' insert (``_MEMBER_INSERT``),
# whose mention ids and times it reuses: one value per member instead of one per band.
_BAND_UPSERT = """
    INSERT INTO monitoring_hoaxband (tenant_id, band, hash, mention_id, published_at)
    SELECT %(tenant)s, u.band, u.hash, (%(mention)s::bigint[])[u.n],
        (%(at)s::timestamptz[])[u.n]
    FROM unnest(%(band)s::smallint[], %(hash)s::bigint[], %(n)s::integer[]) AS u(band, hash, n)
    ON CONFLICT (tenant_id, hash) DO UPDATE
        SET mention_id = EXCLUDED.mention_id, published_at = EXCLUDED.published_at
        WHERE monitoring_hoaxband.published_at <= EXCLUDED.published_at
"""
_BAND_LOOKUP = """
    SELECT b.hash, b.mention_id FROM monitoring_hoaxband b
    JOIN unnest(%(hash)s::bigint[]) AS q(hash) ON b.hash = q.hash
    WHERE b.tenant_id = %(tenant)s AND b.published_at >= %(since)s
"""
_MEMBER_LOOKUP = """
    SELECT mention_id, cluster_id, author, published_at, signature FROM monitoring_hoaxmember
    WHERE tenant_id = %(tenant)s AND mention_id = ANY(%(mention)s::bigint[])
"""
# The chunk's members in one statement; their signatures as one bytea cut in SQL.
_MEMBER_INSERT = """
    INSERT INTO monitoring_hoaxmember
        (tenant_id, mention_id, cluster_id, author, published_at, signature)
    SELECT %(tenant)s, u.mention, u.cluster, u.author, u.at,
        substring(%(signatures)s::bytea FROM ((u.n - 1) * %(size)s + 1)::int FOR %(size)s)
    FROM unnest(%(mention)s::bigint[], %(cluster)s::bigint[], %(author)s::text[],
        %(at)s::timestamptz[]) WITH ORDINALITY AS u(mention, cluster, author, at, n)
"""
# Stored members that a new cluster took in (their first copy came in this chunk).
_MEMBER_JOIN = """
    UPDATE monitoring_hoaxmember m SET cluster_id = u.cluster
    FROM unnest(%(mention)s::bigint[], %(cluster)s::bigint[]) AS u(mention, cluster)
    WHERE m.tenant_id = %(tenant)s AND m.mention_id = u.mention
"""
# Every grown cluster's new state in one statement.
_CLUSTER_UPDATE = """
    UPDATE monitoring_hoaxcluster c SET first_at = u.first_at,
        first_mention_id = u.first_mention_id, first_poster = u.first_poster, text = u.text,
        authors = u.authors, author_count = u.author_count, member_count = u.member_count,
        last_at = u.last_at, links = u.links, low_credibility_links = u.low, spread = u.spread,
        member_authors = u.member_authors, alerted_at = u.alerted_at
    FROM unnest(%(id)s::bigint[], %(first_at)s::timestamptz[], %(first_mention_id)s::bigint[],
        %(first_poster)s::text[], %(text)s::text[], %(authors)s::jsonb[],
        %(author_count)s::integer[], %(member_count)s::integer[], %(last_at)s::timestamptz[],
        %(links)s::jsonb[], %(low)s::jsonb[], %(spread)s::jsonb[], %(member_authors)s::integer[],
        %(alerted_at)s::timestamptz[])
        AS u(id, first_at, first_mention_id, first_poster, text, authors, author_count,
            member_count, last_at, links, low, spread, member_authors, alerted_at)
    WHERE c.tenant_id = %(tenant)s AND c.id = u.id
"""

# Each grown cluster's members inside the window (from its newest new member back): how many
# and each distinct author's first post, both over at most the earliest ``HOAX_JUDGE_CAP``
# of them (index ``hoax_member_cluster``), so a big cluster costs the same per chunk as a
# small one. The rule needs a few authors (``min_authors``); beyond the cap the counts stop
# growing (the alert's count of authors, the chatter test's members inside the window).
_ACTIVE_MEMBERS = """
    SELECT u.cluster, a.members, a.authors, a.firsts
    FROM unnest(%(cluster)s::bigint[], %(since)s::timestamptz[]) AS u(cluster, since)
    CROSS JOIN LATERAL (
        SELECT sum(d.n)::integer AS members,
            array_agg(d.author ORDER BY d.first, d.author) AS authors,
            array_agg(d.first ORDER BY d.first, d.author) AS firsts
        FROM (
            SELECT r.author, min(r.published_at) AS first, count(*) AS n FROM (
                SELECT m.author, m.published_at FROM monitoring_hoaxmember m
                WHERE m.tenant_id = %(tenant)s AND m.cluster_id = u.cluster
                    AND m.published_at >= u.since
                ORDER BY m.published_at LIMIT %(cap)s
            ) AS r GROUP BY r.author
        ) AS d
    ) AS a
"""

# The chunk's (cluster, author) pairs; the ones new to their cluster come back (counted in
# ``member_authors``). One row per pair of the chunk, whatever the clusters' sizes.
_AUTHORS_INSERT = """
    INSERT INTO monitoring_hoaxclusterauthor (tenant_id, cluster_id, author, first_at)
    SELECT %(tenant)s, u.cluster, u.author, u.at
    FROM unnest(%(cluster)s::bigint[], %(author)s::text[], %(at)s::timestamptz[])
        AS u(cluster, author, at)
    ON CONFLICT (tenant_id, cluster_id, author) DO NOTHING
    RETURNING cluster_id
"""


def _ints_or_null(values: Sequence[int | None]) -> str:
    """An array literal of integers where None is ``NULL``."""
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"


def _jsons(values: Sequence[Any]) -> str:
    """An array literal of JSON documents (for ``jsonb[]``)."""
    return sqlarrays.texts(json.dumps(v, ensure_ascii=False) for v in values)


@dataclass
class _Member:
    mention_id: int
    cluster_id: int | None
    author: str
    published_at: datetime
    hashes: np.ndarray
    row: int = -1  # its row in ``evaluate_hoax``'s matrix of every member's hash values


def evaluate_hoax(
    tenant_id: int, rules: list[AlertRule], mentions: list[LiveMention], result: Evaluation
) -> None:
    """The chunk's mentions join clusters in published order. A fixed number of statements per
    chunk whatever its size: one band lookup, one read of the candidate members, one insert of
    the new clusters (and one read of their stored first copies), one insert of members and one
    upsert of band hashes, one update of the stored members that joined a new cluster; then
    ``_judge_clusters``. Each mention meets at most ``HOAX_BANDS`` earlier members: per band,
    the latest one with the same value (``_BAND_UPSERT``); a copy of a grown campaign meets its
    latest copies, which are in the cluster, so it still joins it."""
    threshold, window = _hoax_settings(rules)
    values = hash_values([mention.event.text for mention in mentions])
    signed_mentions = [m for m, v in zip(mentions, values, strict=True) if v is not None]
    if not signed_mentions:
        return
    signatures = np.stack([v for v in values if v is not None]).astype(np.uint64)
    band_matrix = band_hashes(signatures, HOAX_BANDS, HOAX_ROWS)
    band_rows = band_matrix.tolist()
    signed = list(zip(signed_mentions, signatures, band_rows, strict=True))
    since = min(m.event.published_at for m in signed_mentions) - window
    latest: dict[int, int] = {}  # band hash -> the latest member with it
    chunk_hashes = np.unique(band_matrix).tolist()  # sorted, once each
    hash_literal = sqlarrays.ints(chunk_hashes)
    with connection.cursor() as cursor:
        cursor.execute(_BAND_LOOKUP, {"tenant": tenant_id, "hash": hash_literal, "since": since})
        for value, mention_id in cursor.fetchall():
            latest[value] = mention_id
    members: dict[int, _Member] = {}
    candidate_ids = set(latest.values())
    if candidate_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                _MEMBER_LOOKUP,
                {"tenant": tenant_id, "mention": sqlarrays.ints(sorted(candidate_ids))},
            )
            for row in cursor.fetchall():
                members[row[0]] = _Member(
                    row[0], row[1], row[2], as_utc(row[3]), np.frombuffer(row[4], dtype=np.uint64)
                )
    # every member's hash values as the rows of one matrix (the stored ones, then the chunk's),
    # so a mention is compared with its candidates by one indexing, not a stack of arrays
    stored_rows = list(members.values())
    all_hashes = signatures
    if stored_rows and all(len(m.hashes) == signatures.shape[1] for m in stored_rows):
        for index, member in enumerate(stored_rows):
            member.row = index
        all_hashes = np.concatenate([np.stack([m.hashes for m in stored_rows]), signatures])
    chunk_row = len(all_hashes) - len(signatures)  # the row of the chunk's first signed mention
    by_id = {m.id: m for m in mentions}
    # The chunk's mentions come in published order, so only a stored member can be newer than
    # the mention that meets it: from the newest stored one's time on, none is.
    newest_stored = max((m.published_at for m in members.values()), default=None)
    latest_get: Callable[[int], int | None] = latest.get
    new_members: list[_Member] = []
    # band hash -> (band, the position in ``new_members`` of the chunk's latest member with it)
    written: dict[int, tuple[int, int]] = {}
    grown: dict[int, list[LiveMention]] = defaultdict(list)  # cluster id -> new members
    # Clusters born in this chunk get a provisional (negative) id until they are inserted
    # together at the end; each one's first copy: a mention of the chunk or a stored one's id.
    born: dict[int, LiveMention | int] = {}
    stored: set[int] | None = None  # stored unclustered candidates whose mention still exists
    for mention, hashes, bands in signed:
        published = mention.event.published_at
        best: tuple[bool, float, int] | None = None
        oldest = published - window
        # One pass over the bands: each one's latest member so far is a candidate, and this
        # mention takes its place unless that one is newer (a band's hash is its own: the
        # bands of one mention never share a row).
        position = len(new_members) + 1  # 1-based, as SQL arrays
        previous_ids = list(map(latest_get, bands))
        met = set(previous_ids)
        met.discard(None)
        candidates = cast(set[int], met)
        # the candidates newer than this mention keep their bands (only stored ones can be)
        newer = (
            {c for c in candidates if c in members and members[c].published_at > published}
            if newest_stored is not None and newest_stored > published
            else ()
        )
        if len(set(bands)) < HOAX_BANDS:
            # two bands share a hash (never, in practice): band by band, each one reading the
            # latest member anew
            candidates = set()
            for band, value in enumerate(bands):
                previous_id = latest_get(value)
                if previous_id is not None:
                    candidates.add(previous_id)
                    previous = members.get(previous_id)
                    if previous is not None and previous.published_at > published:
                        continue
                latest[value] = mention.id
                written[value] = (band, position)
        elif not newer:
            latest.update(zip(bands, repeat(mention.id, HOAX_BANDS), strict=True))
            written.update(
                zip(
                    bands,
                    zip(_BAND_INDEXES, repeat(position, HOAX_BANDS), strict=True),
                    strict=True,
                )
            )
        else:
            for band, value in enumerate(bands):
                if previous_ids[band] not in newer:
                    latest[value] = mention.id
                    written[value] = (band, position)
        others = [
            members[candidate]
            for candidate in candidates
            if candidate in members and members[candidate].published_at >= oldest
        ]
        if others:
            # estimated Jaccard of each candidate: the share of equal hash values
            rows = [o.row for o in others]
            if -1 in rows:  # a stored signature of another length: compared as it is
                equal = np.count_nonzero(np.stack([o.hashes for o in others]) == hashes, axis=1)
            else:
                equal = (all_hashes[rows] == hashes).sum(axis=1)
            for other, same in zip(others, equal.tolist(), strict=True):
                similarity = same / len(hashes)
                if similarity < threshold:
                    continue
                # A copy that reaches a cluster joins it rather than pairing with a lone
                # earlier post: one campaign stays one cluster (one alert), as offline.
                clustered = other.cluster_id is not None
                candidate = other.mention_id
                if best is None or (clustered, similarity, -candidate) > (
                    best[0],
                    best[1],
                    -best[2],
                ):
                    best = (clustered, similarity, candidate)
        cluster_id: int | None = None
        if best is not None:
            other = members[best[2]]
            if other.cluster_id is None:
                first: LiveMention | int | None = by_id.get(other.mention_id)
                if first is None:
                    if stored is None:
                        stored = _existing_mentions(
                            tenant_id,
                            [
                                m.mention_id
                                for m in members.values()
                                if m.cluster_id is None and m.mention_id not in by_id
                            ],
                        )
                    if other.mention_id in stored:
                        first = other.mention_id
                if first is not None:
                    other.cluster_id = -1 - len(born)
                    born[other.cluster_id] = first
                    grown[other.cluster_id] = [first] if isinstance(first, LiveMention) else []
            cluster_id = other.cluster_id
            if cluster_id is not None:
                grown[cluster_id].append(mention)
        member = _Member(
            mention.id, cluster_id, mention.event.author_key, published, hashes, chunk_row
        )
        chunk_row += 1
        members[mention.id] = member
        new_members.append(member)
    if born:
        real = _new_clusters(tenant_id, born, grown)
        for m in members.values():
            if m.cluster_id is not None and m.cluster_id < 0:
                m.cluster_id = real[m.cluster_id]
        grown = {real.get(cid, cid): added for cid, added in grown.items()}
        joined = [
            (first, real[prov])
            for prov, first in born.items()
            if not isinstance(first, LiveMention)
        ]
        if joined:  # stored members join their new cluster
            with connection.cursor() as cursor:
                cursor.execute(
                    _MEMBER_JOIN,
                    {
                        "tenant": tenant_id,
                        "mention": sqlarrays.ints(mid for mid, _ in joined),
                        "cluster": sqlarrays.ints(cid for _, cid in joined),
                    },
                )
    mention_ids = sqlarrays.ints(m.mention_id for m in new_members)
    times = sqlarrays.times(m.published_at for m in new_members)
    with connection.cursor() as cursor:
        cursor.execute(
            _MEMBER_INSERT,
            {
                "tenant": tenant_id,
                "mention": mention_ids,
                "cluster": _ints_or_null([m.cluster_id for m in new_members]),
                "author": sqlarrays.texts(m.author[:220] for m in new_members),
                "at": times,
                "signatures": b"".join(m.hashes.tobytes() for m in new_members),
                "size": HOAX_SIGNATURE_BYTES,
            },
        )
        # in hash order (the index's); usually every hash of the chunk, whose column the
        # lookup already sent
        order = chunk_hashes if len(written) == len(chunk_hashes) else sorted(written)
        pairs = list(map(written.__getitem__, order))  # (band, position) per hash
        cursor.execute(
            _BAND_UPSERT,
            {
                "tenant": tenant_id,
                "band": sqlarrays.ints(map(itemgetter(0), pairs)),
                "hash": hash_literal if order is chunk_hashes else sqlarrays.ints(order),
                "n": sqlarrays.ints(map(itemgetter(1), pairs)),
                "mention": mention_ids,
                "at": times,
            },
        )
    if grown:
        _judge_clusters(tenant_id, rules, grown, window, result)


def _existing_mentions(tenant_id: int, ids: list[int]) -> set[int]:
    """Which of ``ids`` are still stored mentions (a cluster starts only from one)."""
    if not ids:
        return set()
    return set(
        Mention.objects.for_tenant(tenant_id).filter(pk__in=ids).values_list("id", flat=True)
    )


def _new_clusters(
    tenant_id: int, born: dict[int, LiveMention | int], grown: dict[int, list[LiveMention]]
) -> dict[int, int]:
    """Insert the clusters born in this chunk, in order of birth, each from its first copy (a
    stored first copy is read now and becomes its cluster's first new member); returns the
    real id of each provisional one."""
    ids = [first for first in born.values() if not isinstance(first, LiveMention)]
    loaded = {m.id: m for m in load_mentions(tenant_id, ids)} if ids else {}
    firsts: list[LiveMention] = []
    for prov, first in born.items():
        live = first if isinstance(first, LiveMention) else loaded[first]
        if not isinstance(first, LiveMention):
            grown[prov].insert(0, live)
        firsts.append(live)
    created = HoaxCluster.objects.bulk_create([_new_cluster(tenant_id, live) for live in firsts])
    return {prov: cluster.pk for prov, cluster in zip(born, created, strict=True)}


def _new_cluster(tenant_id: int, live: LiveMention) -> HoaxCluster:
    """A cluster whose first member is ``live`` (an earlier mention), not saved yet."""
    event = live.event
    return HoaxCluster(
        tenant_id=tenant_id,
        key=f"{event.platform}:{event.external_id}"[:220],
        first_mention_id=live.id,
        first_poster=event.author[:200],
        first_at=event.published_at,
        last_at=event.published_at,
        text=event.text[:2000],
        member_count=0,
        author_count=0,
        member_authors=0,
    )


def _judge_clusters(
    tenant_id: int,
    rules: list[AlertRule],
    grown: dict[int, list[LiveMention]],
    window: timedelta,
    result: Evaluation,
) -> None:
    clusters = _lock_clusters(tenant_id, list(grown))
    low = list(LowCredibilityDomain.objects.for_tenant(tenant_id).values_list("domain", flat=True))
    newest = {cid: max(m.event.published_at for m in ms) for cid, ms in grown.items()}
    _count_authors(tenant_id, [clusters[cid] for cid in grown], grown)
    for cluster_id, added in grown.items():
        _update_cluster(clusters[cluster_id], added, low)
    # (authors inside the window, the earliest member's time there, members there) per cluster
    active: dict[int, tuple[int, datetime | None, int]] = {}
    read: list[int] = []
    for cluster_id in grown:
        cluster = clusters[cluster_id]
        if (
            cluster.member_authors is not None
            and cluster.first_at >= newest[cluster_id] - window
            and cluster.member_count <= HOAX_JUDGE_CAP
        ):
            # every member is inside the window and under the cap: the aggregate would count
            # them all, and their authors, and start at the first copy
            active[cluster_id] = (cluster.member_authors, cluster.first_at, cluster.member_count)
        else:
            read.append(cluster_id)
    active.update(_active_members(tenant_id, read, newest, window))
    volume = _Volume(tenant_id, min(floor_bucket(c.first_at) for c in clusters.values()))
    firings: list[services.Firing] = []
    for cluster_id, added in grown.items():
        cluster = clusters[cluster_id]
        authors, start, members = active.get(cluster_id, (0, None, 0))
        tipping = max(added, key=lambda m: (m.event.published_at, m.id))
        if tipping.backfill:
            continue
        if not _spreading(volume, cluster, members, tipping, window):
            continue
        for rule in rules:
            needed = int(rule.params.get("min_authors") or HOAX_PRESETS[rule.sensitivity][1])
            if authors < needed or start is None:
                continue
            firings.append(
                services.Firing(
                    rule,
                    _hoax_alert(rule, cluster, authors, start, tipping, needed),
                    f"hoax-spread:{cluster.key}",
                    [m.id for m in added],
                    [m.event.author for m in added],
                    cluster,
                    f"Hoax spread: {cluster.text[:120]}",
                )
            )
    # every grown cluster's alert at once (with the other rules' alerts of the chunk: ``flush``):
    # a campaign's clusters grow together chunk by chunk. The grown clusters are written after,
    # in one statement, the ones whose first alert this was marked with it (``alerted_at``).
    grown_clusters = [clusters[cluster_id] for cluster_id in grown]

    def save(outcomes: list[services.Fired]) -> None:
        fired_at = timezone.now()
        for firing, fired in zip(firings, outcomes, strict=True):
            alerted = firing.cluster
            if fired.created and alerted is not None and alerted.alerted_at is None:
                alerted.alerted_at = fired_at
        _save_clusters(tenant_id, grown_clusters)

    fire_many(firings, result, save)


# The grown clusters, locked (in id order) until the delivery commits: every column, in
# ``HoaxCluster``'s field order (``HoaxCluster.from_db``), read without the ORM's per-row work.
_CLUSTER_COLUMNS = HoaxCluster._meta.concrete_fields
_CLUSTER_FIELDS = tuple(f.attname for f in _CLUSTER_COLUMNS)
_CLUSTER_JSON = tuple(i for i, f in enumerate(_CLUSTER_COLUMNS) if isinstance(f, models.JSONField))
_CLUSTER_LOCK = f"""
    SELECT {", ".join(str(f.column) for f in _CLUSTER_COLUMNS)}
    FROM monitoring_hoaxcluster WHERE tenant_id = %(tenant)s AND id = ANY(%(id)s::bigint[])
    ORDER BY id FOR UPDATE
"""  # noqa: S608 - the model's own column names


def _lock_clusters(tenant_id: int, ids: list[int]) -> dict[int, HoaxCluster]:
    """The clusters of ``ids`` by id, locked (``_CLUSTER_LOCK``)."""
    with connection.cursor() as cursor:
        cursor.execute(_CLUSTER_LOCK, {"tenant": tenant_id, "id": sqlarrays.ints(sorted(ids))})
        rows = cursor.fetchall()
    db = connection.alias
    out: dict[int, HoaxCluster] = {}
    for row in rows:
        values = list(row)
        for i in _CLUSTER_JSON:
            values[i] = json.loads(values[i])
        cluster = HoaxCluster.from_db(db, _CLUSTER_FIELDS, values)
        out[cluster.pk] = cluster
    return out


def _count_authors(
    tenant_id: int, clusters: list[HoaxCluster], grown: dict[int, list[LiveMention]]
) -> None:
    """Add the new authors of the chunk's members to each kept cluster's ``member_authors``
    (in memory; ``_save_clusters`` writes it)."""
    kept = {c.pk: c for c in clusters if c.member_authors is not None}
    pairs: dict[tuple[int, str], datetime] = {}
    for cluster_id in kept:
        for mention in grown[cluster_id]:
            key = (cluster_id, mention.event.author_key[:220])
            at = mention.event.published_at
            if key not in pairs or at < pairs[key]:
                pairs[key] = at
    if not pairs:
        return
    order = sorted(pairs)  # the unique index's order
    with connection.cursor() as cursor:
        cursor.execute(
            _AUTHORS_INSERT,
            {
                "tenant": tenant_id,
                "cluster": sqlarrays.ints(cid for cid, _ in order),
                "author": sqlarrays.texts(author for _, author in order),
                "at": sqlarrays.times(pairs[key] for key in order),
            },
        )
        for (cluster_id,) in cursor.fetchall():
            cluster = kept[cluster_id]
            cluster.member_authors = (cluster.member_authors or 0) + 1


def _active_members(
    tenant_id: int, read: list[int], newest: dict[int, datetime], window: timedelta
) -> dict[int, tuple[int, datetime | None, int]]:
    """Each cluster's authors inside its window, its earliest member there and its members
    there, read from its members (``_ACTIVE_MEMBERS``)."""
    if not read:
        return {}
    out: dict[int, tuple[int, datetime | None, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            _ACTIVE_MEMBERS,
            {
                "tenant": tenant_id,
                "cluster": sqlarrays.ints(read),
                "since": sqlarrays.times(newest[cid] - window for cid in read),
                "cap": HOAX_JUDGE_CAP,
            },
        )
        for cluster_id, count, authors, firsts in cursor.fetchall():
            starts = [as_utc(first) for first in firsts or ()]
            out[cluster_id] = (len(authors or ()), min(starts, default=None), count or 0)
    return out


class _Volume:
    """The tenant's mentions per 5-minute bucket (the rollups, all queries) from ``since`` on,
    read once per chunk when a cluster that was circulating before its window needs them
    (``_spreading``)."""

    def __init__(self, tenant_id: int, since: datetime) -> None:
        self.tenant_id = tenant_id
        self.since = since
        self.starts: list[datetime] | None = None
        self.sums: list[int] = [0]  # sums[i]: mentions of the buckets before starts[i]

    def between(self, start: datetime, end: datetime) -> int:
        """Mentions of the buckets from ``start`` to ``end`` (both inclusive)."""
        if self.starts is None or start < self.since:
            self.since = min(self.since, start)
            rows = list(
                MetricBucket.objects.for_tenant(self.tenant_id)
                .filter(query_id=0, bucket__gte=self.since)
                .order_by("bucket")
                .values_list("bucket", "mentions")
            )
            self.starts = [as_utc(bucket) for bucket, _ in rows]
            self.sums = [0]
            for _, mentions in rows:
                self.sums.append(self.sums[-1] + (mentions or 0))
        lo = bisect_left(self.starts, start)
        hi = bisect_right(self.starts, end)
        return self.sums[hi] - self.sums[lo] if hi > lo else 0


def _spreading(
    volume: _Volume, cluster: HoaxCluster, active: int, tipping: LiveMention, window: timedelta
) -> bool:
    """A cluster first seen inside the window spreads; one that was circulating before only
    when its share of the tenant's mentions (the rollups) reaches ``CHATTER_RATIO`` times its
    share before the window (``hoax.outgrows_chatter``, as offline)."""
    now = tipping.event.published_at
    window_start = now - window
    if cluster.first_at >= window_start or cluster.member_count <= active:
        return True
    first, split = floor_bucket(cluster.first_at), floor_bucket(window_start)
    return outgrows_chatter(
        recent=active,
        recent_total=volume.between(max(first, split), now),
        earlier=cluster.member_count - active,
        earlier_total=volume.between(first, split - timedelta(microseconds=1)),
    )


def _update_cluster(cluster: HoaxCluster, added: list[LiveMention], low: list[str]) -> None:
    """The cluster's new state with ``added`` (in memory; ``_save_clusters`` writes it)."""
    authors = list(cluster.authors)
    known = set(authors)
    for mention in added:
        handle = mention.event.author
        if handle and handle not in known and len(authors) < 200:
            authors.append(handle)
            known.add(handle)
    links = set(cluster.links)
    for mention in added:
        links.update(mention.event.domains)
    spread = {row["hour"]: row["mentions"] for row in cluster.spread}
    hours: dict[datetime, int] = {}  # the added members per hour, each hour written once
    for mention in added:
        moment = mention.event.published_at.replace(minute=0, second=0, microsecond=0)
        hours[moment] = hours.get(moment, 0) + 1
    for moment, count in hours.items():
        hour = iso(moment)
        spread[hour] = spread.get(hour, 0) + count
    earliest = min(added, key=lambda m: (m.event.published_at, m.id))
    if earliest.event.published_at < cluster.first_at:
        # Chunks may be stored out of order (a backfill after live data): the first poster is
        # the earliest copy known; the key (and the alert's dedupe key) stays.
        cluster.first_at = earliest.event.published_at
        cluster.first_mention_id = earliest.id
        cluster.first_poster = earliest.event.author[:200]
        cluster.text = earliest.event.text[:2000]
    cluster.authors = authors
    cluster.author_count = len(authors)
    cluster.member_count += len(added)
    cluster.last_at = max([cluster.last_at, *(m.event.published_at for m in added)])
    cluster.links = sorted(links)[:50]
    cluster.low_credibility_links = sorted(
        d for d in links if any(d == bad or d.endswith("." + bad) for bad in low)
    )
    cluster.spread = [{"hour": h, "mentions": n} for h, n in sorted(spread.items())]


def _save_clusters(tenant_id: int, clusters: list[HoaxCluster]) -> None:
    """Write the grown clusters' state (``_update_cluster``, and ``alerted_at``: read under
    the clusters' lock, set by ``_judge_clusters``) in one statement."""
    if not clusters:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _CLUSTER_UPDATE,
            {
                "tenant": tenant_id,
                "id": sqlarrays.ints(c.pk for c in clusters),
                "first_at": sqlarrays.times(c.first_at for c in clusters),
                "first_mention_id": _ints_or_null([c.first_mention_id for c in clusters]),
                "first_poster": sqlarrays.texts(c.first_poster for c in clusters),
                "text": sqlarrays.texts(c.text for c in clusters),
                "authors": _jsons([c.authors for c in clusters]),
                "author_count": sqlarrays.ints(c.author_count for c in clusters),
                "member_count": sqlarrays.ints(c.member_count for c in clusters),
                "last_at": sqlarrays.times(c.last_at for c in clusters),
                "links": _jsons([c.links for c in clusters]),
                "low": _jsons([c.low_credibility_links for c in clusters]),
                "spread": _jsons([c.spread for c in clusters]),
                "member_authors": _ints_or_null([c.member_authors for c in clusters]),
                "alerted_at": "{"
                + ",".join(
                    "NULL" if c.alerted_at is None else '"' + c.alerted_at.isoformat() + '"'
                    for c in clusters
                )
                + "}",
            },
        )


def _hoax_alert(
    rule: AlertRule,
    cluster: HoaxCluster,
    count: int,
    start: datetime,
    tipping: LiveMention,
    needed: int,
) -> Detected:
    at = tipping.event.published_at
    hours = max((at - start).total_seconds() / 3600, 0.0)
    snippet = " ".join(cluster.text.split())
    snippet = snippet if len(snippet) <= 140 else snippet[:137] + "..."
    score = score_from_ratio(count, needed)
    return Detected(
        rule=rule.kind,
        at=at,
        window_start=start,
        window_end=at,
        observed=float(count),
        baseline=1.0,
        threshold=float(needed),
        score=score,
        severity=rule.severity or ("sev2" if score >= 0.9 else "sev3"),
        explanation=(
            f"The same claim was posted by {count} distinct accounts within {hours:.1f} hours "
            f"(first by {cluster.first_poster or 'an unknown author'} at "
            f'{iso(cluster.first_at)}; the rule fires at {needed}): "{snippet}"'
        ),
        dedupe_key=f"hoax-spread:{cluster.key}",
        subject={
            "cluster": {
                "cluster_id": cluster.key,
                "first_poster": cluster.first_poster,
                "authors": cluster.authors[:50],
                "links": cluster.links,
                "low_credibility_links": cluster.low_credibility_links,
            }
        },
        mentions=[tipping.event.ref],
        details={"spread": cluster.spread},
    )


# --- owned accounts, influential authors, keywords -------------------------------------------


def evaluate_owned(
    tenant_id: int, rule: AlertRule, mentions: list[LiveMention], result: Evaluation
) -> None:
    """One owned-account rule (the tenant's first) learns and judges each account's posts."""
    posts: dict[tuple[str, str], list[LiveMention]] = defaultdict(list)
    for mention in mentions:
        if mention.in_query(rule.query_id):
            posts[account_key(mention.event.platform, mention.event.author)].append(mention)
    if not posts:
        return
    accounts = {
        account_key(a.platform, a.handle): a
        for a in OwnedAccount.objects.for_tenant(tenant_id).order_by("id").select_for_update()
    }
    firings: list[services.Firing] = []
    for key, own in posts.items():
        account = accounts.get(key)
        if account is None:
            continue
        detector = OwnedAccounts(
            OwnedConfig(
                accounts=frozenset({key}),
                sensitivity=rule.sensitivity,
                cooldown=rule.cooldown,
                severity=rule.severity or None,
            )
        )
        detector.profiles[key] = Profile.from_dict(account.profile)
        for mention in own:
            detected = detector.observe(mention.event)
            if detected is not None and not mention.backfill:
                firings.append(
                    services.Firing(
                        rule,
                        detected,
                        f"owned-account:{key[0]}:{key[1]}",
                        [mention.id],
                        [mention.event.author],
                        title=f"Owned account {account.handle} on {account.platform}",
                    )
                )
        profile = detector.profiles[key]
        account.profile = profile.to_dict()
        account.posts_seen = profile.posts
        account.save(update_fields=["profile", "posts_seen", "updated_at"])
    fire_many(firings, result)


def evaluate_author(rule: AlertRule, mentions: list[LiveMention], result: Evaluation) -> None:
    detector = InfluentialAuthor(
        AuthorConfig(
            sensitivity=rule.sensitivity,
            cooldown=rule.cooldown,
            severity=rule.severity or None,
            min_followers=rule.params.get("min_followers"),
        )
    )
    firings: list[services.Firing] = []
    for mention in mentions:
        if mention.backfill or not mention.in_query(rule.query_id):
            continue
        detected = detector.observe(mention.event)
        if detected is not None:
            firings.append(
                services.Firing(
                    rule,
                    detected,
                    f"influential-author:{mention.event.author_key}",
                    [mention.id],
                    [mention.event.author],
                )
            )
    fire_many(firings, result)


def evaluate_keywords(rule: AlertRule, mentions: list[LiveMention], result: Evaluation) -> None:
    words = rule.params.get("keywords") or []
    live = [m for m in mentions if not m.backfill and m.in_query(rule.query_id)]
    if not words or not live:
        return
    config = KeywordConfig(
        keywords=tuple(words),
        sensitivity=rule.sensitivity,
        window=rule.window,
        cooldown=rule.cooldown,
        severity=rule.severity or None,
    )
    state, _ = (
        DetectorState.objects.for_tenant(rule.tenant_id)
        .select_for_update()
        .get_or_create(
            tenant_id=rule.tenant_id, rule=rule, series="keywords", defaults={"state": {}}
        )
    )
    detector = TriggerKeywords.from_dict(state.state or {}, config)
    firings: list[services.Firing] = []
    for mention in live:
        detected = detector.observe(mention.event)
        if detected is not None:
            keyword = detected.subject.get("keyword", "")
            refs = {(r.platform, r.external_id) for r in detected.mentions}
            ids = [m.id for m in live if (m.event.platform, m.event.external_id) in refs]
            firings.append(
                services.Firing(
                    rule,
                    detected,
                    f"trigger-keywords:{keyword.lower()}",
                    ids or [mention.id],
                    [r.author for r in detected.mentions],
                )
            )
    fire_many(firings, result)
    state.state = detector.to_dict()
    state.save(update_fields=["state", "updated_at"])


# --- velocity -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Updated:
    id: int
    ref: MentionRef
    published_at: datetime
    ingested_at: datetime
    matched_queries: list[int]


def snapshot_engagement(
    tenant_id: int, ids: Sequence[int], now: datetime
) -> dict[int, list[Point]]:
    """Store each updated mention's engagement (the pipeline's update path); return every
    mention's snapshots of the last two days, oldest first (index ``engagement_by_mention``)."""
    rows = list(
        Mention.objects.for_tenant(tenant_id)
        .filter(pk__in=list(ids))
        .values_list("id", "likes", "shares", "replies", "views")
    )
    EngagementSnapshot.objects.bulk_create(
        [
            EngagementSnapshot(
                tenant_id=tenant_id,
                mention_id=mention_id,
                at=now,
                likes=likes,
                shares=shares,
                replies=replies,
                views=views,
            )
            for mention_id, likes, shares, replies, views in rows
        ]
    )
    points: dict[int, list[Point]] = defaultdict(list)
    for mention_id, at, likes, shares, replies in (
        EngagementSnapshot.objects.for_tenant(tenant_id)
        .filter(mention_id__in=[r[0] for r in rows], at__gte=now - SNAPSHOT_KEEP)
        .order_by("mention_id", "at", "id")
        .values_list("mention_id", "at", "likes", "shares", "replies")
    ):
        points[mention_id].append(Point(as_utc(at), float(likes + shares + replies)))
    return dict(points)


def evaluate_velocity(
    tenant_id: int,
    rules: list[AlertRule],
    points: dict[int, list[Point]],
    result: Evaluation,
    now: datetime | None = None,
) -> None:
    """Judge the chunk's re-delivered mentions, one by one and by hoax cluster.

    A mention in a hoax cluster (``HoaxMember.cluster``) is judged with its cluster: the
    members' summed engagement (every member with a recent snapshot, ``velocity.judge_cluster``)
    and, failing that, the member alone; either fires under the cluster's key
    ``velocity:c<cluster id>``, so a campaign speeding up pages once however many of its
    members cross (the cluster's alert wins, a crossing member merges into it). A mention in no
    cluster fires under ``velocity:m<mention id>``."""
    now = now or max((p[-1].at for p in points.values() if p), default=timezone.now())
    candidates = {mid: p for mid, p in points.items() if p}
    if not candidates:
        return
    cluster_of = dict(
        HoaxMember.objects.for_tenant(tenant_id)
        .filter(mention_id__in=list(candidates), cluster__isnull=False)
        .values_list("mention_id", "cluster_id")
    )
    member_ids: dict[int, list[int]] = defaultdict(list)
    if cluster_of:
        for mention_id, cluster_id in (
            HoaxMember.objects.for_tenant(tenant_id)
            .filter(cluster_id__in=set(cluster_of.values()))
            .order_by("published_at", "mention_id")
            .values_list("mention_id", "cluster_id")
        ):
            member_ids[cluster_id].append(mention_id)
        others = {m for ids in member_ids.values() for m in ids} - set(candidates)
        if others:
            candidates.update(_snapshots(tenant_id, others, now))
    updated = {
        row[0]: _Updated(
            row[0], MentionRef(row[1], row[2], row[3]), as_utc(row[4]), as_utc(row[5]), row[6]
        )
        for row in Mention.objects.for_tenant(tenant_id)
        .filter(pk__in=list(candidates))
        .values_list(
            "id",
            "platform",
            "external_id",
            "author_handle",
            "published_at",
            "ingested_at",
            "matched_queries",
        )
    }
    clusters = HoaxCluster.objects.for_tenant(tenant_id).in_bulk(list(member_ids))
    firings: list[services.Firing] = []
    for rule in rules:
        config = VelocityConfig(
            sensitivity=rule.sensitivity,
            cooldown=rule.cooldown,
            severity=rule.severity or None,
            min_rate=rule.params.get("min_rate"),
            ratio=rule.params.get("ratio"),
        )

        def usable(mention_id: int, rule: AlertRule = rule) -> _Updated | None:
            mention = updated.get(mention_id)
            if mention is None or mention.ingested_at - mention.published_at > BACKFILL:
                return None
            if rule.query_id and rule.query_id not in mention.matched_queries:
                return None
            return mention

        judged: set[int] = set()
        for mention_id in points:
            owner = cluster_of.get(mention_id)
            mention = usable(mention_id)
            if mention is None or owner in judged:
                continue
            if owner is None or owner not in clusters:
                single = (
                    judge_velocity(
                        config,
                        mention=mention.ref,
                        published_at=mention.published_at,
                        points=candidates[mention.id],
                    )
                    if len(candidates[mention.id]) >= 2
                    else None
                )
                if single is not None:
                    firings.append(
                        services.Firing(
                            rule,
                            single,
                            f"velocity:m{mention.id}",
                            [mention.id],
                            [mention.ref.author],
                        )
                    )
                continue
            judged.add(owner)
            firing = _judge_velocity_cluster(
                rule, config, clusters[owner], member_ids[owner], usable, candidates, now
            )
            if firing is not None:
                firings.append(firing)
    fire_many(firings, result)


def _judge_velocity_cluster(
    rule: AlertRule,
    config: VelocityConfig,
    cluster: HoaxCluster,
    ids: list[int],
    usable: Callable[[int], _Updated | None],
    points: dict[int, list[Point]],
    now: datetime,
) -> services.Firing | None:
    """One hoax cluster's velocity (see ``evaluate_velocity``): what it fires, if anything."""
    key = f"velocity:c{cluster.pk}"
    members = [m for m in (usable(mid) for mid in ids) if m is not None and points.get(m.id)]
    detected = judge_cluster(
        config,
        cluster=cluster.key,
        members=[Member(m.ref, m.published_at, points[m.id]) for m in members],
        now=now,
        dedupe_key=key,
    )
    if detected is None:
        # the cluster does not cross together: a member crossing alone fires as the cluster's
        for member in members:
            if len(points[member.id]) < 2 or points[member.id][-1].at < now:
                continue  # judged when it was re-delivered
            single = judge_velocity(
                config,
                mention=member.ref,
                published_at=member.published_at,
                points=points[member.id],
            )
            if single is not None and (detected is None or single.observed > detected.observed):
                detected = replace(
                    single,
                    dedupe_key=key,
                    explanation=f"{single.explanation} It belongs to hoax cluster {cluster.key}.",
                    subject={**single.subject, "cluster": {"cluster_id": cluster.key}},
                )
    if detected is None:
        return None
    refs = {(r.platform, r.external_id) for r in detected.mentions}
    hits = [m for m in members if (m.ref.platform, m.ref.external_id) in refs]
    return services.Firing(
        rule,
        detected,
        key,
        [m.id for m in hits][:SAMPLES],
        [m.ref.author for m in hits],
        cluster,
        f"Velocity of hoax cluster {cluster.key}"[:200],
    )


def _snapshots(tenant_id: int, ids: set[int], now: datetime) -> dict[int, list[Point]]:
    """The stored snapshots of mentions the chunk did not update (cluster members)."""
    points: dict[int, list[Point]] = defaultdict(list)
    for mention_id, at, likes, shares, replies in (
        EngagementSnapshot.objects.for_tenant(tenant_id)
        .filter(mention_id__in=list(ids), at__gte=now - SNAPSHOT_KEEP)
        .order_by("mention_id", "at", "id")
        .values_list("mention_id", "at", "likes", "shares", "replies")
    ):
        points[mention_id].append(Point(as_utc(at), float(likes + shares + replies)))
    return dict(points)


# --- the sweep ----------------------------------------------------------------------------


@dataclass
class Swept:
    series: int = 0
    fired: int = 0
    woken: int = 0
    pruned: int = 0


def sweep(*, now: datetime | None = None) -> Swept:
    """Time-based conditions across tenants, each tenant in its own transaction (see the
    module docstring). Reads which tenants have work unpinned (``tenant_ids``), then works
    pinned to each."""
    now = now or timezone.now()
    done = Swept()
    due = DetectorState.objects.get_queryset().filter(due_at__lte=now)
    for tenant_id in due.tenant_ids():
        if _backlog(tenant_id, now):
            continue  # chunks still queued: they settle their buckets themselves
        with transaction.atomic():
            lock_tenant(tenant_id)
            done.series += _sweep_series(tenant_id, now, done)
    snoozed = Alert.objects.get_queryset().filter(
        status=AlertStatus.SNOOZED, snoozed_until__lte=now
    )
    for tenant_id in snoozed.tenant_ids():
        done.woken += services.wake_snoozed(tenant_id=tenant_id, now=now)
    return done


def _backlog(tenant_id: int, now: datetime) -> bool:
    """Whether committed chunks of the tenant still wait for early warning (not too old)."""
    return (
        PipelineEvent.objects.for_tenant(tenant_id)
        .filter(delivered_at__isnull=True, created_at__gte=now - LAG_LIMIT)
        .exists()
    )


def _sweep_series(tenant_id: int, now: datetime, done: Swept) -> int:
    states = list(
        DetectorState.objects.for_tenant(tenant_id)
        .filter(due_at__lte=now)
        .order_by("id")
        .select_for_update(skip_locked=True)
    )
    rules = AlertRule.objects.for_tenant(tenant_id).in_bulk({s.rule_id for s in states})
    result = Evaluation()
    for state in states:
        rule = rules[state.rule_id]
        if not rule.enabled or rule.kind not in SERIES_KINDS:
            state.due_at = None
            state.save(update_fields=["due_at", "updated_at"])
            continue
        step = advance(series_config(rule), state.state or None, {}, now, state.series)
        state.state = step.state
        state.due_at = step.due_at
        state.save(update_fields=["state", "due_at", "updated_at"])
        for detected in step.alerts:
            fire(
                rule,
                detected,
                result,
                key=f"{rule.kind}:{state.series}",
                mention_ids=sample_mentions(tenant_id, rule, detected),
            )
    done.fired += result.fired
    return len(states)


def hoax_window(tenant_id: int) -> timedelta:
    windows = list(
        AlertRule.objects.for_tenant(tenant_id)
        .filter(kind=AlertKind.HOAX_SPREAD, enabled=True)
        .values_list("window", flat=True)
    )
    return max(windows, default=DEFAULT_HOAX_WINDOW)


def prune(*, now: datetime | None = None) -> int:
    """Delete band hashes and members older than the tenant's hoax window, and engagement
    snapshots older than two days, tenant by tenant. Returns the rows deleted."""
    now = now or timezone.now()
    deleted = 0
    oldest = now - min(DEFAULT_HOAX_WINDOW, timedelta(hours=1))
    for model in (HoaxBand, HoaxMember):
        old = model.objects.get_queryset().filter(published_at__lt=oldest)
        for tenant_id in old.tenant_ids():
            cutoff = now - hoax_window(tenant_id)
            with transaction.atomic():
                deleted += (
                    model.objects.for_tenant(tenant_id).filter(published_at__lt=cutoff).delete()[0]
                )
    # A cluster's authors go with its members; a cluster that lost any stops keeping its
    # count (it began before the window: judged from its members, ``_judge_clusters``).
    authors = HoaxClusterAuthor.objects.get_queryset().filter(first_at__lt=oldest)
    for tenant_id in authors.tenant_ids():
        cutoff = now - hoax_window(tenant_id)
        with transaction.atomic():
            HoaxCluster.objects.for_tenant(tenant_id).filter(
                first_at__lt=cutoff, member_authors__isnull=False
            ).update(member_authors=None)
            deleted += (
                HoaxClusterAuthor.objects.for_tenant(tenant_id)
                .filter(first_at__lt=cutoff)
                .delete()[0]
            )
    snapshots = EngagementSnapshot.objects.get_queryset().filter(at__lt=now - SNAPSHOT_KEEP)
    for tenant_id in snapshots.tenant_ids():
        deleted += (
            EngagementSnapshot.objects.for_tenant(tenant_id)
            .filter(at__lt=now - SNAPSHOT_KEEP)
            .delete()[0]
        )
    return deleted
