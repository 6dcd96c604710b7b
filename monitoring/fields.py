"""Public fields of the monitoring app, declared once (``tenants.fields.PublicFields``).

Each declaration builds the REST serializer's fields, the strawberry type
(``tenants.graphql.types.public_type``) and the services' list of writable fields.
``tests/test_field_parity.py`` compares every REST/GraphQL pair.
"""

from __future__ import annotations

from monitoring.models import (
    Alert,
    AlertEvent,
    AlertRule,
    HoaxCluster,
    IngestBatch,
    LexiconEntry,
    LowCredibilityDomain,
    Mention,
    MetricBucket,
    MonitoredQuery,
    OwnedAccount,
    ScoreCorrection,
    ScoringModel,
    Source,
    TrackedTerm,
)
from tenants.fields import PublicFields

QUERY = PublicFields(
    MonitoredQuery,
    ("id", "name", "query", "languages", "platforms", "is_active", "created_at", "updated_at"),
    read_only=("id", "created_at", "updated_at"),
)

SOURCE_HEALTH = (
    "last_success_at",
    "last_error",
    "last_error_at",
    "consecutive_failures",
    "received_count",
    "accepted_count",
    "rejected_count",
)
SOURCE = PublicFields(
    Source,
    ("id", "name", "kind", "config", "status", "poll_interval_s", *SOURCE_HEALTH, "created_at"),
    read_only=("id", *SOURCE_HEALTH, "created_at"),
)

_MENTION_NAMES = (
    "id",
    "platform",
    "external_id",
    "url",
    "author_handle",
    "author_name",
    "author_followers",
    "author_verified",
    "text",
    "language",
    "published_at",
    "ingested_at",
    "likes",
    "shares",
    "replies",
    "views",
    "matched_queries",
    "sentiment",
    "sentiment_scores",
    "scores",
    "provocation",
    "triggers",
    "hashtags",
    "risk",
    "risk_band",
    "status",
    "tags",
    "assignee",
)
# What triage may change; everything else of a mention is what the pipeline found (``risk_band``
# is derived from ``risk``: ``Mention.risk_band``).
MENTION_TRIAGE = ("status", "tags", "assignee")
MENTION = PublicFields(
    Mention,
    _MENTION_NAMES,
    read_only=tuple(name for name in _MENTION_NAMES if name not in MENTION_TRIAGE),
)

METRIC_BUCKET = PublicFields(
    MetricBucket,
    ("bucket", "mentions", "positive", "neutral", "negative", "reach", "engagement"),
    read_only=("bucket", "mentions", "positive", "neutral", "negative", "reach", "engagement"),
)

TRACKED_TERM = PublicFields(TrackedTerm, ("id", "text", "kind"))
LEXICON_ENTRY = PublicFields(LexiconEntry, ("id", "label", "phrase", "weight"))
LOW_CREDIBILITY_DOMAIN = PublicFields(LowCredibilityDomain, ("id", "domain"))

_BATCH_NAMES = (
    "id",
    "source",
    "status",
    "item_count",
    "rejected",
    "chunk_count",
    "chunks_done",
    "inserted_count",
    "duplicate_count",
    "error",
    "received_at",
    "finished_at",
)
BATCH = PublicFields(IngestBatch, _BATCH_NAMES, read_only=_BATCH_NAMES)


# --- early warning (docs/alerts.md) -------------------------------------------------------

_RULE_NAMES = (
    "id",
    "name",
    "kind",
    "query",
    "sensitivity",
    "window",
    "cooldown",
    "severity",
    "enabled",
    "params",
    "false_positive_rate",
    "created_at",
    "updated_at",
)
# ``false_positive_rate`` is computed (``early_warning.selectors.false_positive_rates``).
ALERT_RULE = PublicFields(
    AlertRule,
    _RULE_NAMES,
    read_only=("id", "false_positive_rate", "created_at", "updated_at"),
)

_ALERT_NAMES = (
    "id",
    "rule",
    "query",
    "cluster",
    "kind",
    "severity",
    "status",
    "title",
    "explanation",
    "observed",
    "baseline",
    "threshold",
    "sigma",
    "score",
    "window_start",
    "window_end",
    "subject",
    "details",
    "sample_mention_ids",
    "sample_authors",
    "evidence_count",
    "first_evidence_at",
    "last_evidence_at",
    "cooldown_until",
    "snoozed_until",
    "dismissed_reason",
    "acknowledged_by",
    "acknowledged_at",
    "resolved_at",
    "created_at",
    "updated_at",
)
# Every change of an alert is an action (acknowledge, snooze, resolve, dismiss).
ALERT = PublicFields(Alert, _ALERT_NAMES, read_only=_ALERT_NAMES)

_EVENT_NAMES = ("id", "kind", "at", "actor", "from_status", "to_status", "note", "data")
ALERT_EVENT = PublicFields(AlertEvent, _EVENT_NAMES, read_only=_EVENT_NAMES)

_CLUSTER_NAMES = (
    "id",
    "key",
    "first_mention",
    "first_poster",
    "first_at",
    "last_at",
    "text",
    "member_count",
    "author_count",
    "authors",
    "links",
    "low_credibility_links",
    "spread",
    "alerted_at",
)
HOAX_CLUSTER = PublicFields(HoaxCluster, _CLUSTER_NAMES, read_only=_CLUSTER_NAMES)

OWNED_ACCOUNT = PublicFields(
    OwnedAccount,
    ("id", "platform", "handle", "label", "posts_seen", "created_at", "updated_at"),
    read_only=("id", "posts_seen", "created_at", "updated_at"),
)


# --- corrections and the tenant's classifier (docs/scoring.md) ---------------------------------

_CORRECTION_NAMES = (
    "id",
    "mention",
    "field",
    "old_value",
    "new_value",
    "corrected_by",
    "created_at",
)
SCORE_CORRECTION = PublicFields(ScoreCorrection, _CORRECTION_NAMES, read_only=_CORRECTION_NAMES)

_SCORING_MODEL_NAMES = (
    "id",
    "version",
    "status",
    "base",
    "corrections",
    "metrics",
    "created_at",
    "live_since",
)
SCORING_MODEL = PublicFields(ScoringModel, _SCORING_MODEL_NAMES, read_only=_SCORING_MODEL_NAMES)
