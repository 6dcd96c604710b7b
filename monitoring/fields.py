"""Public fields of the monitoring app, declared once for REST serializers and GraphQL types.

``tests/monitoring/test_graphql.py`` checks that the GraphQL types carry the same names.
"""

QUERY = ("id", "name", "query", "languages", "platforms", "is_active", "created_at", "updated_at")

SOURCE_HEALTH = (
    "last_success_at",
    "last_error",
    "last_error_at",
    "consecutive_failures",
    "received_count",
    "accepted_count",
    "rejected_count",
)
SOURCE = ("id", "name", "kind", "config", "status", "poll_interval_s", *SOURCE_HEALTH, "created_at")

MENTION = (
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
    "status",
    "tags",
    "assignee",
)
# What triage may change; everything else of a mention is what the pipeline found.
MENTION_TRIAGE = ("status", "tags", "assignee")

METRIC_BUCKET = ("bucket", "mentions", "positive", "neutral", "negative", "reach", "engagement")

TRACKED_TERM = ("id", "text", "kind")
LEXICON_ENTRY = ("id", "label", "phrase", "weight")
LOW_CREDIBILITY_DOMAIN = ("id", "domain")

BATCH = (
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
