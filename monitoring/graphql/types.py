"""GraphQL types of the monitoring app. Field names match REST (``monitoring.fields``).

Every model type derives from ``TenantOwnedType`` with ``monitoring.view`` as its read
capability, so any list or nested prefetch of it keeps only rows of tenants where the caller
may read monitoring data.
"""

from __future__ import annotations

from datetime import datetime
from typing import NewType

import strawberry
import strawberry_django
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

from monitoring.models import Mention, MonitoredQuery, Source, TrackedTerm
from tenants.graphql.types import TenantOwnedType, UserSummaryType
from tenants.roles import Cap

BigInt = NewType("BigInt", int)

# Registered in ``config.graphql`` through ``StrawberryConfig.scalar_map``.
SCALARS: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="An integer that may exceed 32 bits (counts of followers, views, reach).",
        serialize=int,
        parse_value=int,
    )
}


@strawberry_django.type(MonitoredQuery, name="MonitoredQuery")
class MonitoredQueryType(TenantOwnedType):
    read_capability = Cap.VIEW_MONITORING

    id: strawberry.ID
    name: str
    query: str
    languages: list[str]
    platforms: list[str]
    is_active: bool
    created_at: datetime
    updated_at: datetime


@strawberry_django.type(Source, name="Source")
class SourceType(TenantOwnedType):
    """A source and its health. The webhook secret is never exposed here."""

    read_capability = Cap.VIEW_MONITORING

    @strawberry_django.field(only=["config"])
    def config(self, root: Source) -> JSON:
        """Credentials in stored URLs are masked."""
        return root.public_config  # type: ignore[return-value]  # JSON is any JSON value

    id: strawberry.ID
    name: str
    kind: str
    status: str
    poll_interval_s: int
    last_success_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    consecutive_failures: int
    received_count: BigInt
    accepted_count: BigInt
    rejected_count: BigInt
    created_at: datetime


@strawberry_django.type(Mention, name="Mention")
class MentionType(TenantOwnedType):
    read_capability = Cap.VIEW_MONITORING

    id: strawberry.ID
    platform: str
    external_id: str
    url: str
    author_handle: str
    author_name: str
    author_followers: BigInt
    author_verified: bool
    text: str
    language: str
    published_at: datetime
    ingested_at: datetime
    likes: BigInt
    shares: BigInt
    replies: BigInt
    views: BigInt
    matched_queries: list[BigInt]
    sentiment: str
    sentiment_scores: JSON
    scores: JSON
    provocation: float
    triggers: list[str]
    hashtags: list[str]
    risk: int
    status: str
    tags: list[str]
    assignee: UserSummaryType | None


@strawberry_django.type(TrackedTerm, name="TrackedTerm")
class TrackedTermType(TenantOwnedType):
    read_capability = Cap.VIEW_MONITORING

    id: strawberry.ID
    text: str
    kind: str


@strawberry.type(name="MetricBucket")
class MetricBucketType:
    """Counts of one bucket of a volume series; ``bucket`` carries the requested zone's offset."""

    bucket: datetime
    mentions: int
    positive: int
    neutral: int
    negative: int
    reach: BigInt
    engagement: BigInt
