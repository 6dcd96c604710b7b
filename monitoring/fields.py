"""Public fields of the monitoring app, declared once (``tenants.fields.PublicFields``).

Each declaration builds the REST serializer's fields, the strawberry type
(``tenants.graphql.types.public_type``) and the services' list of writable fields.
``tests/test_field_parity.py`` compares every REST/GraphQL pair.
"""

from __future__ import annotations

from monitoring.models import (
    IngestBatch,
    LexiconEntry,
    LowCredibilityDomain,
    Mention,
    MetricBucket,
    MonitoredQuery,
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
