"""GraphQL types of the monitoring app, built from the public fields in ``monitoring.fields``
(``tenants.graphql.types.public_type``), so field names and types match REST.

Every model type derives from ``TenantOwnedType`` with ``monitoring.view`` as its read
capability, so any list or nested prefetch of it keeps only rows of tenants where the caller
may read monitoring data.
"""

from __future__ import annotations

import strawberry_django
from strawberry.scalars import JSON

from monitoring import fields
from monitoring.models import Source
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


@public_type(fields.TRACKED_TERM)
class TrackedTermType(TenantOwnedType):
    read_capability = Cap.VIEW_MONITORING


@public_type(fields.METRIC_BUCKET, django=False)
class MetricBucketType:
    """Counts of one bucket of a volume series; ``bucket`` carries the requested zone's offset."""
