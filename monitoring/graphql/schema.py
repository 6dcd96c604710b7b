"""Root GraphQL fields of the monitoring app. Each takes the tenant's ``slug`` and checks the
caller's access like REST: NOT_FOUND outside the tenant, FORBIDDEN without the capability,
BAD_USER_INPUT (with ``extensions.field``) for a bad argument."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
import strawberry_django
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import PermissionExtension

from monitoring import selectors, services
from monitoring.graphql.filters import (
    MentionFilter,
    MentionPagination,
    filter_mentions,
    paginate,
)
from monitoring.graphql.types import (
    MentionType,
    MetricBucketType,
    MonitoredQueryType,
    SourceType,
    TrackedTermType,
)
from monitoring.models import Mention, MonitoredQuery, Source, TrackedTerm
from monitoring.params import VolumeParamsSerializer
from tenants.api.pagination import DIGITS
from tenants.graphql.context import Info
from tenants.graphql.errors import bad_input, service_errors, validated
from tenants.graphql.permissions import IsAuthenticated, tenant_for
from tenants.roles import Cap

_authenticated: list[FieldExtension] = [PermissionExtension(permissions=[IsAuthenticated()])]


@strawberry.type
class MonitoringQuery:
    @strawberry_django.field(extensions=_authenticated)
    def monitored_queries(self, info: Info, slug: str) -> list[MonitoredQueryType]:
        tenant = tenant_for(info, slug, Cap.VIEW_MONITORING)
        return MonitoredQuery.objects.for_tenant(tenant).order_by("name")  # type: ignore[return-value]

    @strawberry_django.field(extensions=_authenticated)
    def sources(self, info: Info, slug: str) -> list[SourceType]:
        tenant = tenant_for(info, slug, Cap.VIEW_MONITORING)
        return Source.objects.for_tenant(tenant).order_by("name")  # type: ignore[return-value]

    @strawberry_django.field(extensions=_authenticated)
    def tracked_terms(self, info: Info, slug: str) -> list[TrackedTermType]:
        tenant = tenant_for(info, slug, Cap.VIEW_MONITORING)
        return TrackedTerm.objects.for_tenant(tenant).order_by("text")  # type: ignore[return-value]

    @strawberry_django.field(extensions=_authenticated)
    def mentions(
        self,
        info: Info,
        slug: str,
        filters: MentionFilter | None = None,
        pagination: MentionPagination | None = None,
    ) -> list[MentionType]:
        """Mentions newest first, filtered like the REST list."""
        tenant = tenant_for(info, slug, Cap.VIEW_MONITORING)
        rows = filter_mentions(selectors.mentions(tenant.pk), filters)
        return paginate(rows, pagination)  # type: ignore[return-value]

    @strawberry_django.field(extensions=_authenticated)
    def volume(
        self,
        info: Info,
        slug: str,
        interval: str = "1h",
        tz: str | None = None,
        query_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[MetricBucketType]:
        """Mentions, sentiment, reach and engagement per bucket (5m, 1h, 1d) in a time zone
        (default: the tenant's) over a period (default: the last 7 days)."""
        tenant = tenant_for(info, slug, Cap.VIEW_MONITORING)
        given = {"interval": interval, "tz": tz, "query": query_id, "since": since, "until": until}
        params = validated(
            VolumeParamsSerializer(
                data={k: v for k, v in given.items() if v is not None}, context={"tenant": tenant}
            )
        )
        series = selectors.volume(
            tenant.pk,
            since=params["since"],
            until=params["until"],
            interval=params["interval"],
            tz=params.get("tz") or tenant.time_zone,
            query_id=params.get("query"),
        )
        return [MetricBucketType(**point) for point in series]


@strawberry.type
class MonitoringMutation:
    @strawberry_django.mutation(extensions=_authenticated)
    def update_mention_triage(
        self,
        info: Info,
        slug: str,
        id: strawberry.ID,
        status: str | None = None,
        tags: list[str] | None = None,
        assignee_id: strawberry.ID | None = strawberry.UNSET,
    ) -> MentionType:
        """Change a mention's triage status, tags and assignee (``null`` unassigns)."""
        tenant = tenant_for(info, slug, Cap.TRIAGE_MENTIONS)
        mention = (
            selectors.mentions(tenant.pk).filter(pk=int(id)).first()
            if DIGITS.fullmatch(str(id))
            else None
        )
        if mention is None:
            raise bad_input("No such mention in this tenant.", "id")
        changes: dict[str, Any] = {}
        if status is not None:
            changes["status"] = status
        if tags is not None:
            changes["tags"] = tags
        if assignee_id is not strawberry.UNSET:
            changes["assignee"] = assignee_id
        with service_errors():
            services.triage_mention(mention=mention, **changes)
        stored = Mention.objects.for_tenant(tenant.pk).select_related("assignee")
        return stored.get(pk=mention.pk)  # type: ignore[return-value]
