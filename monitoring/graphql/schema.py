"""Root GraphQL fields of the monitoring app. Each takes the tenant's ``slug`` and checks the
caller's access like REST: NOT_FOUND outside the tenant, FORBIDDEN without the capability,
BAD_USER_INPUT (with ``extensions.field``) for a bad argument.

Every REST metric has its field here with the same arguments (read by the same parameter
serializers of ``monitoring.params``) and the same answer (``monitoring.selectors``); the mention
list takes REST's filters and ``ordering``, and ``mentions_count`` counts it.
``tests/monitoring/test_portal_parity.py`` compares the answers of both APIs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import strawberry
import strawberry_django

from monitoring import selectors, services
from monitoring.filtersets import MENTION_ORDERINGS, MentionFilterSet
from monitoring.graphql.filters import (
    MentionFilter,
    MentionPagination,
    filter_mentions,
    paginate,
)
from monitoring.graphql.types import (
    BulkTriageErrorType,
    BulkTriageResultType,
    MentionType,
    MetricBucketType,
    MonitoredQueryType,
    ShareOfVoiceRowType,
    ShareOfVoiceType,
    SourceType,
    TopAuthorsType,
    TopAuthorType,
    TopCountsType,
    TopCountType,
    TrackedTermType,
)
from monitoring.models import Mention, MonitoredQuery, Source, TrackedTerm
from monitoring.params import (
    ShareOfVoiceParamsSerializer,
    TopParamsSerializer,
    VolumeParamsSerializer,
)
from tenants.api.pagination import DIGITS
from tenants.api.params import PeriodSerializer
from tenants.graphql.context import Info
from tenants.graphql.errors import bad_input, service_errors, validated
from tenants.graphql.filters import bound_filterset
from tenants.graphql.permissions import AUTHENTICATED as _authenticated
from tenants.graphql.permissions import tenant_for
from tenants.models import Tenant
from tenants.roles import Cap

ORDERING_HELP = (
    "As REST's ?ordering=: "
    + ", ".join(f"{name}, -{name}" for name in MENTION_ORDERINGS)
    + " (default -published_at)."
)


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
        ordering: Annotated[str | None, strawberry.argument(description=ORDERING_HELP)] = None,
        pagination: MentionPagination | None = None,
    ) -> list[MentionType]:
        """Mentions newest first (or by ``ordering``), filtered like the REST list."""
        tenant = tenant_for(info, slug, Cap.VIEW_MONITORING)
        rows = filter_mentions(selectors.mentions(tenant.pk), filters, ordering)
        return paginate(rows, pagination)  # type: ignore[return-value]

    @strawberry_django.field(extensions=_authenticated)
    def mentions_count(self, info: Info, slug: str, filters: MentionFilter | None = None) -> int:
        """How many mentions match the filters (REST: ``mentions/count/``)."""
        tenant = tenant_for(info, slug, Cap.VIEW_MONITORING)
        bound = bound_filterset(MentionFilterSet, Mention.objects.for_tenant(tenant), filters)
        return selectors.mention_count(tenant.pk, bound)

    @strawberry_django.field(extensions=_authenticated)
    def volume(
        self,
        info: Info,
        slug: str,
        interval: str = "1h",
        tz: str | None = None,
        query: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        query_id: Annotated[
            int | None, strawberry.argument(deprecation_reason="Use 'query', as REST does.")
        ] = None,
    ) -> list[MetricBucketType]:
        """Mentions, sentiment, reach and engagement per bucket (5m, 1h, 1d) in a time zone
        (default: the tenant's) over a period (default: the last 7 days)."""
        tenant = tenant_for(info, slug, Cap.VIEW_MONITORING)
        if query is not None and query_id is not None:
            raise bad_input("query_id: give 'query' only.", "query_id")
        params = _params(
            VolumeParamsSerializer,
            tenant,
            interval=interval,
            tz=tz,
            query=query if query is not None else query_id,
            since=since,
            until=until,
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

    @strawberry_django.field(extensions=_authenticated)
    def share_of_voice(
        self,
        info: Info,
        slug: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> ShareOfVoiceType:
        """Each active query's mentions over the period and its share of them all (REST:
        ``metrics/share-of-voice/``)."""
        tenant = tenant_for(info, slug, Cap.VIEW_MONITORING)
        params = _params(ShareOfVoiceParamsSerializer, tenant, since=since, until=until)
        result = selectors.share_of_voice(tenant.pk, since=params["since"], until=params["until"])
        return ShareOfVoiceType(
            since=params["since"],
            until=params["until"],
            total=result["total"],
            results=[ShareOfVoiceRowType(**row) for row in result["results"]],
        )

    @strawberry_django.field(extensions=_authenticated)
    def top_authors(
        self,
        info: Info,
        slug: str,
        since: datetime | None = None,
        until: datetime | None = None,
        query: int | None = None,
        limit: int | None = None,
    ) -> TopAuthorsType:
        """Authors with the largest reach (largest follower count seen), then most mentions
        (REST: ``metrics/top-authors/``)."""
        params, results = _top(info, slug, selectors.top_authors, since, until, query, limit)
        return TopAuthorsType(
            since=params["since"],
            until=params["until"],
            results=[TopAuthorType(**row) for row in results],
        )

    @strawberry_django.field(extensions=_authenticated)
    def top_hashtags(
        self,
        info: Info,
        slug: str,
        since: datetime | None = None,
        until: datetime | None = None,
        query: int | None = None,
        limit: int | None = None,
    ) -> TopCountsType:
        """The most used hashtags over the period (REST: ``metrics/top-hashtags/``)."""
        params, results = _top(info, slug, selectors.top_hashtags, since, until, query, limit)
        return TopCountsType(
            since=params["since"],
            until=params["until"],
            results=[TopCountType(**row) for row in results],
        )

    @strawberry_django.field(extensions=_authenticated)
    def top_terms(
        self,
        info: Info,
        slug: str,
        since: datetime | None = None,
        until: datetime | None = None,
        query: int | None = None,
        limit: int | None = None,
    ) -> TopCountsType:
        """The tracked terms mentioned most over the period (REST: ``metrics/top-terms/``)."""
        params, results = _top(info, slug, selectors.top_terms, since, until, query, limit)
        return TopCountsType(
            since=params["since"],
            until=params["until"],
            results=[TopCountType(**row) for row in results],
        )


def _params(serializer: type[PeriodSerializer], tenant: Tenant, **given: Any) -> Any:
    """The arguments given, checked by the REST endpoint's parameter serializer."""
    return validated(
        serializer(
            data={name: value for name, value in given.items() if value is not None},
            context={"tenant": tenant},
        )
    )


def _top(
    info: Info,
    slug: str,
    selector: Callable[..., list[dict[str, Any]]],
    since: datetime | None,
    until: datetime | None,
    query: int | None,
    limit: int | None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    tenant = tenant_for(info, slug, Cap.VIEW_MONITORING)
    params = _params(
        TopParamsSerializer, tenant, since=since, until=until, query=query, limit=limit
    )
    results = selector(
        tenant.pk,
        since=params["since"],
        until=params["until"],
        limit=params["limit"],
        query_id=params.get("query"),
    )
    return params, results


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

    @strawberry_django.mutation(extensions=_authenticated)
    def bulk_triage_mentions(
        self,
        info: Info,
        slug: str,
        ids: list[strawberry.ID],
        status: str | None = None,
        add_tags: list[str] | None = None,
        remove_tags: list[str] | None = None,
        assignee_id: strawberry.ID | None = strawberry.UNSET,
    ) -> BulkTriageResultType:
        """Triage up to 500 mentions at once, like REST's ``mentions/bulk-triage/``: set the
        status and assignee (``null`` unassigns), add and remove tags."""
        tenant = tenant_for(info, slug, Cap.TRIAGE_MENTIONS)
        mention_ids = []
        for value in ids:
            if not DIGITS.fullmatch(str(value)):
                raise bad_input("ids: each id must be a positive whole number.", "ids")
            mention_ids.append(int(value))
        changes: dict[str, Any] = {}
        if status is not None:
            changes["status"] = status
        if add_tags is not None:
            changes["add_tags"] = add_tags
        if remove_tags is not None:
            changes["remove_tags"] = remove_tags
        if assignee_id is not strawberry.UNSET:
            changes["assignee"] = assignee_id
        if not changes:
            raise bad_input(
                "Give at least one change: status, add_tags, remove_tags or assignee_id.",
                "status",
            )
        with service_errors():
            result = services.triage_mentions(tenant=tenant, ids=mention_ids, **changes)
        return BulkTriageResultType(
            requested=result.requested,
            updated=result.updated,
            unchanged=result.unchanged,
            errors=[
                BulkTriageErrorType(
                    id=strawberry.ID(str(error["id"])), code=error["code"], detail=error["detail"]
                )
                for error in result.errors
            ],
        )
