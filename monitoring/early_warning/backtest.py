"""Backtest a stored rule over the tenant's own data: "this rule would have fired these alerts".

Replayed as the offline ``manage.py backtest-rule`` replays (state starts empty, each decision
uses only earlier data, the rule's own settings, dedupe and cooldown apply), over at most
``MAX_DAYS`` days ending now. Series rules (``spike``, ``negative-surge``) replay the stored
5-minute rollups of the rule's query (a missing bucket counts as 0); the mention rules replay the
stored mentions (at most ``MAX_MENTIONS``, the newest) in published order; a negative surge
judges the count and, as live, the negative share of the rollups' totals. Velocity has no
history to replay (engagement snapshots are kept two days) and answers an empty list. Reads
only; nothing is stored.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from monitoring.alerting.rules import mention_rule
from monitoring.alerting.spike import SpikeDetector
from monitoring.alerting.surge import UsualShare, share_widths
from monitoring.alerting.types import as_utc, iso
from monitoring.choices import AlertKind
from monitoring.early_warning.live import (
    BUCKET,
    ROLLUP_COLUMN,
    LiveMention,
    judge_share_bucket,
    load_mentions,
    series_config,
)
from monitoring.models import AlertRule, Mention, MetricBucket, OwnedAccount

MAX_DAYS = 30
MAX_MENTIONS = 20_000


def backtest_rule(
    *, rule: AlertRule, days: int = MAX_DAYS, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The alerts ``rule`` would have fired in the last ``days`` days (1 to 30), oldest first,
    each as the offline backtest prints them (``timestamp``, ``rule``, ``observed``,
    ``baseline``, ``threshold``, ``window``, ``explanation``, ``severity``, …)."""
    days = max(1, min(int(days), MAX_DAYS))
    now = now or timezone.now()
    since = now - timedelta(days=days)
    if rule.kind in ROLLUP_COLUMN:
        return _series(rule, since, now)
    if rule.kind == AlertKind.VELOCITY:
        return []
    return _mentions(rule, since, now)


def _series(rule: AlertRule, since: datetime, now: datetime) -> list[dict[str, Any]]:
    column = ROLLUP_COLUMN[AlertKind(rule.kind)]
    rows = (
        MetricBucket.objects.for_tenant(rule.tenant_id)
        .filter(query_id=rule.query_id or 0, bucket__gte=since, bucket__lt=now)
        .order_by("bucket")
        .values_list("bucket", column, "mentions")
    )
    config = series_config(rule)
    detector = SpikeDetector(config, BUCKET, series=f"q{rule.query_id or 0}")
    share = rule.kind == AlertKind.NEGATIVE_SURGE
    usual = UsualShare(max(share_widths(config.window)))
    out = []
    for bucket, count, total in rows:
        start = as_utc(bucket)
        alert = detector.observe(start, float(count))
        if share:
            # as live: the share when the count does not fire, then the bucket is learnt
            if alert is not None:
                alert = replace(alert, details={**alert.details, "test": "count"})
            elif count:
                alert = judge_share_bucket(config, detector, usual, start, count, total)
            usual.close(start, count, total)
        if alert is not None:
            line = {"timestamp": iso(alert.at), **alert.to_dict()}
            line.pop("at", None)
            out.append(line)
    return out


def _mentions(rule: AlertRule, since: datetime, now: datetime) -> list[dict[str, Any]]:
    ids = list(
        Mention.objects.for_tenant(rule.tenant_id)
        .filter(published_at__gte=since, published_at__lt=now)
        .order_by("-published_at", "-id")
        .values_list("id", flat=True)[:MAX_MENTIONS]
    )
    mentions: list[LiveMention] = load_mentions(rule.tenant_id, ids)
    owned = [
        (platform, handle)
        for platform, handle in OwnedAccount.objects.for_tenant(rule.tenant_id).values_list(
            "platform", "handle"
        )
    ]
    if rule.kind == AlertKind.OWNED_ACCOUNT and not owned:
        return []
    try:
        detector = mention_rule(
            rule.kind,
            sensitivity=rule.sensitivity,
            window=f"{int(rule.window.total_seconds())}s",
            cooldown=f"{int(rule.cooldown.total_seconds())}s",
            severity=rule.severity or None,
            owned=owned,
            keywords=rule.params.get("keywords") or [],
        )
    except ValueError:
        return []
    out = []
    for mention in mentions:
        if not mention.in_query(rule.query_id):
            continue
        alert = detector.observe(mention.event)
        if alert is not None:
            line = {"timestamp": iso(alert.at), **alert.to_dict()}
            line.pop("at", None)
            out.append(line)
    return out
