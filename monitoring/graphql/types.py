"""GraphQL types of the monitoring app, built from the public fields in ``monitoring.fields``
(``tenants.graphql.types.public_type``), so field names and types match REST.

Every model type derives from ``TenantOwnedType`` with ``monitoring.view`` as its read
capability, so any list or nested prefetch of it keeps only rows of tenants where the caller
may read monitoring data.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
import strawberry_django
from strawberry.scalars import JSON

from monitoring import fields
from monitoring.models import Mention, Source
from monitoring.scoring.risk import describe_bands
from tenants.graphql.scalars import BigInt
from tenants.graphql.types import TenantOwnedType, UserSummaryType, public_type
from tenants.roles import Cap


@public_type(fields.QUERY)
class MonitoredQueryType(TenantOwnedType):
    read_capability = Cap.VIEW_MONITORING


@public_type(fields.SOURCE)
class SourceType(TenantOwnedType):
    """A source and its health. The webhook secret is never exposed here."""

    read_capability = Cap.VIEW_MONITORING

    @strawberry_django.field(only=["config"])
    def config(self, root: Source) -> JSON:
        """Credentials in stored URLs are masked."""
        return root.public_config  # type: ignore[return-value]  # JSON is any JSON value


@public_type(fields.MENTION)
class MentionType(TenantOwnedType):
    read_capability = Cap.VIEW_MONITORING

    assignee: UserSummaryType | None

    @strawberry_django.field(
        only=["risk"], description=f"The band of risk: {describe_bands()} (docs/scoring.md)."
    )
    def risk_band(self, root: Mention) -> str:
        return root.risk_band


@public_type(fields.TRACKED_TERM)
class TrackedTermType(TenantOwnedType):
    read_capability = Cap.VIEW_MONITORING


@public_type(fields.METRIC_BUCKET, django=False)
class MetricBucketType:
    """Counts of one bucket of a volume series; ``bucket`` carries the requested zone's offset."""


# --- metrics: the shapes of the REST metrics (monitoring.api.serializers), field for field ---


@strawberry.type(name="ShareOfVoiceRow")
class ShareOfVoiceRowType:
    query: BigInt
    name: str
    mentions: int
    share: float = strawberry.field(description="0-1, of the mentions of every active query.")


@strawberry.type(
    name="ShareOfVoice",
    description="Each active query's mentions over the period and its share of them all.",
)
class ShareOfVoiceType:
    since: datetime
    until: datetime
    total: int
    results: list[ShareOfVoiceRowType]


@strawberry.type(name="TopAuthor")
class TopAuthorType:
    platform: str
    author_handle: str
    author_name: str
    mentions: int
    reach: BigInt = strawberry.field(description="The author's largest follower count seen.")


@strawberry.type(
    name="TopAuthors",
    description="Authors with the largest reach, then most mentions, over the period.",
)
class TopAuthorsType:
    since: datetime
    until: datetime
    results: list[TopAuthorType]


@strawberry.type(name="TopCount")
class TopCountType:
    text: str
    mentions: int


@strawberry.type(
    name="TopCounts",
    description="The hashtags or tracked terms found most often over the period (lower case).",
)
class TopCountsType:
    since: datetime
    until: datetime
    results: list[TopCountType]


@strawberry.type(name="BulkTriageError")
class BulkTriageErrorType:
    id: strawberry.ID
    code: str = strawberry.field(description="not_found or max_tags.")
    detail: str


@strawberry.type(
    name="BulkTriageResult",
    description="What a bulk triage did (REST ``mentions/bulk-triage/`` answers the same).",
)
class BulkTriageResultType:
    requested: int
    updated: int
    unchanged: int
    errors: list[BulkTriageErrorType]
