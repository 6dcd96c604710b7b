"""Backtest of a stored rule over its tenant's own rollups: "this rule would have fired these
alerts in the last N days" (``POST .../alert-rules/{id}/backtest/``, docs/alerts.md).

Guarantees:

* **the live detectors, the live settings**: the rule's series (``MetricBucket`` rows of its
  query, or of every mention when it has none: the 5-minute rollups the pipeline keeps) is
  replayed bucket by bucket through the same pure detector the live layer runs
  (``monitoring.alerting.spike.SpikeDetector``) with the rule's sensitivity, window, cooldown and
  severity (``series_config``, as live), so warm-up, episodes and cooldown apply as they would
  have; each decision uses only that bucket and earlier ones, and the state starts empty at the
  first bucket holding a count;
* **bounded**: at most ``MAX_DAYS`` days (8,640 buckets), one indexed read
  (``bucket_unique``: tenant, query, bucket), and at most ``MAX_ALERTS`` alerts listed;
* **read-only**: nothing is stored, no detector state is touched.

Rules that judge single mentions (hoax spread, owned accounts, influential authors, trigger
keywords, velocity) and provocation bursts have no rollup to replay: their backtest is refused
with a ``ValidationError`` on ``kind`` (use ``manage.py backtest-rule --mentions`` on an export).
Each alert listed assumes the previous one was dealt with; live, an alert left open absorbs
later episodes of the same series (``services.fire_or_merge``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from monitoring.alerting.spike import SpikeConfig, SpikeDetector
from monitoring.alerting.types import Alert as Detected
from monitoring.choices import AlertKind, Sensitivity
from monitoring.models import AlertRule, MetricBucket

BUCKET = timedelta(minutes=5)
DEFAULT_DAYS = 30
MAX_DAYS = 30
MAX_ALERTS = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# kind -> the rollup column its series counts
ROLLUP_COLUMN: dict[str, str] = {
    AlertKind.SPIKE: "mentions",
    AlertKind.NEGATIVE_SURGE: "negative",
}
UNIT: dict[str, str] = {
    AlertKind.SPIKE: "mentions",
    AlertKind.NEGATIVE_SURGE: "negative mentions",
}


def series_config(rule: AlertRule, sensitivity: str | None = None) -> SpikeConfig:
    """The detector settings of a series rule, as the live layer builds them."""
    return SpikeConfig(
        rule=rule.kind,
        sensitivity=sensitivity or rule.sensitivity,
        window=rule.window,
        cooldown=rule.cooldown,
        severity=rule.severity or None,
        unit=UNIT[rule.kind],
    )


def floor_bucket(moment: datetime) -> datetime:
    seconds = int((moment - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=seconds - seconds % int(BUCKET.total_seconds()))


@dataclass
class Backtest:
    """What a backtest found: the period replayed, how many buckets held counts, the alerts."""

    rule: AlertRule
    sensitivity: str
    days: int
    since: datetime
    until: datetime
    buckets: int = 0
    alerts: list[Detected] = field(default_factory=list)
    truncated: bool = False

    @property
    def alert_count(self) -> int:
        return len(self.alerts)


def check_days(days: Any) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationError(
            {
                "days": ValidationError(
                    _("Must be a whole number of days from 1 to %(max)d.") % {"max": MAX_DAYS},
                    "out_of_range",
                )
            }
        )
    return days


def backtest(
    *,
    rule: AlertRule,
    days: int = DEFAULT_DAYS,
    sensitivity: str | None = None,
    now: datetime | None = None,
) -> Backtest:
    """Replay the rule over the last ``days`` days of its rollups (see the module docstring).
    ``sensitivity`` tries another sensitivity than the rule's own."""
    days = check_days(days)
    if sensitivity is not None and sensitivity not in Sensitivity.values:
        raise ValidationError(
            {"sensitivity": ValidationError(_("Not a sensitivity."), "invalid_choice")}
        )
    column = ROLLUP_COLUMN.get(rule.kind)
    if column is None:
        raise ValidationError(
            {
                "kind": ValidationError(
                    _(
                        "Only volume spike and negative surge rules can be backtested over the "
                        "stored rollups; replay an export with manage.py backtest-rule "
                        "--mentions instead."
                    ),
                    "not_backtestable",
                )
            }
        )
    config = series_config(rule, sensitivity)
    until = floor_bucket(now or timezone.now())  # the bucket filling now is left out
    since = until - timedelta(days=days)
    result = Backtest(
        rule=rule, sensitivity=config.sensitivity, days=days, since=since, until=until
    )
    series = f"q{rule.query_id or 0}"
    rows = (
        MetricBucket.objects.for_tenant(rule.tenant_id)
        .filter(query_id=rule.query_id or 0, bucket__gte=since, bucket__lt=until)
        .order_by("bucket")
        .values_list("bucket", column)
    )
    detector = SpikeDetector(config, BUCKET, series=series)
    for bucket, count in rows.iterator(chunk_size=2000):
        if not count and detector.origin is None:
            continue  # the state starts at the first bucket holding a count
        result.buckets += 1
        detected = detector.observe(floor_bucket(bucket), float(count))
        if detected is None:
            continue
        detected.dedupe_key = f"{rule.kind}:{series}:{detector.episode}"
        if len(result.alerts) >= MAX_ALERTS:
            result.truncated = True
            continue
        result.alerts.append(detected)
    return result
