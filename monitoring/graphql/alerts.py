"""GraphQL of early warning: the client portal reads its alerts (with explanation and history),
alert rules (with their false-positive rate), hoax clusters and owned accounts. Types are built
from ``monitoring.fields`` like REST's serializers; every type derives from ``TenantOwnedType``
with ``alerts.view``, so nested lists (an alert's history) keep only rows the caller may read.
Root fields take the tenant's ``slug`` and answer like REST (NOT_FOUND outside the tenant,
FORBIDDEN without ``alerts.view``, BAD_USER_INPUT for a bad filter). Changes of alerts and
rules are REST's (``monitoring.api.alerts``) and the admin's.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import Prefetch, QuerySet
from django.utils.duration import duration_string
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import PermissionExtension

from monitoring import fields
from monitoring.early_warning import selectors
from monitoring.filtersets import ALERT_ORDERINGS, AlertFilterSet
from monitoring.graphql.filters import MentionPagination, paginate
from monitoring.models import Alert, AlertEvent, AlertRule, HoaxCluster
from tenants.graphql.context import Info
from tenants.graphql.filters import apply_filters, filter_input
from tenants.graphql.permissions import IsAuthenticated, tenant_for
from tenants.graphql.types import TenantOwnedType, UserSummaryType, public_type
from tenants.roles import Cap

_authenticated: list[FieldExtension] = [PermissionExtension(permissions=[IsAuthenticated()])]
ALERT_ORDERING_HELP = (
    "As REST's ?ordering=: "
    + ", ".join(f"{name}, -{name}" for name in ALERT_ORDERINGS)
    + " (default -created_at)."
)


@strawberry.type(name="FalsePositiveRate")
class FalsePositiveRateType:
    alerts: int
    dismissed: int
    resolved: int
    rate: float | None = strawberry.field(
        description="dismissed / (dismissed + resolved); null before anyone decided on one."
    )


EMPTY_RATE = {"alerts": 0, "dismissed": 0, "resolved": 0, "rate": None}


@public_type(fields.ALERT_RULE)
class AlertRuleType(TenantOwnedType):
    """An early-warning rule; ``window`` and ``cooldown`` are durations as REST writes them."""

    read_capability = Cap.VIEW_ALERTS

    @strawberry_django.field(only=["query_id"])
    def query(self, root: AlertRule) -> strawberry.ID | None:
        return strawberry.ID(str(root.query_id)) if root.query_id else None

    @strawberry_django.field(only=["window"])
    def window(self, root: AlertRule) -> str:
        return duration_string(root.window)

    @strawberry_django.field(only=["cooldown"])
    def cooldown(self, root: AlertRule) -> str:
        return duration_string(root.cooldown)

    @strawberry_django.field(only=["id", "tenant_id"])
    def false_positive_rate(self, root: AlertRule) -> FalsePositiveRateType:
        """Dismissed among the alerts someone decided on (read once per list)."""
        rate = getattr(root, "_false_positive_rate", None)
        if rate is None:
            rate = selectors.false_positive_rate(rule=root)
        return FalsePositiveRateType(**rate)


@public_type(fields.ALERT_EVENT)
class AlertEventType(TenantOwnedType):
    """One entry of an alert's history."""

    read_capability = Cap.VIEW_ALERTS

    actor: UserSummaryType | None


@public_type(fields.ALERT)
class AlertType(TenantOwnedType):
    """An alert explaining itself, with its history (``history``)."""

    read_capability = Cap.VIEW_ALERTS

    acknowledged_by: UserSummaryType | None

    @strawberry_django.field
    def history(self, root: Alert) -> list[AlertEventType]:
        """Fired, merged evidence and status changes, oldest first (prefetched by the root
        field, in the alert's tenant)."""
        return list(root.events.all())  # type: ignore[arg-type]

    @strawberry_django.field(only=["rule_id"])
    def rule(self, root: Alert) -> strawberry.ID | None:
        return strawberry.ID(str(root.rule_id)) if root.rule_id else None

    @strawberry_django.field(only=["query_id"])
    def query(self, root: Alert) -> strawberry.ID | None:
        return strawberry.ID(str(root.query_id)) if root.query_id else None

    @strawberry_django.field(only=["cluster_id"])
    def cluster(self, root: Alert) -> strawberry.ID | None:
        return strawberry.ID(str(root.cluster_id)) if root.cluster_id else None


@public_type(fields.HOAX_CLUSTER)
class HoaxClusterType(TenantOwnedType):
    """Near-duplicate copies of one claim: first poster, authors, links, spread per hour."""

    read_capability = Cap.VIEW_ALERTS

    @strawberry_django.field(only=["first_mention_id"])
    def first_mention(self, root: HoaxCluster) -> strawberry.ID | None:
        return strawberry.ID(str(root.first_mention_id)) if root.first_mention_id else None


@public_type(fields.OWNED_ACCOUNT)
class OwnedAccountType(TenantOwnedType):
    read_capability = Cap.VIEW_ALERTS


def with_history(rows: QuerySet[Alert], tenant_id: int) -> QuerySet[Alert]:
    """Alerts newest first, the acknowledging user joined and the history prefetched in the
    tenant (one more query for the page, however many alerts)."""
    events = AlertEvent.objects.for_tenant(tenant_id).select_related("actor").order_by("at", "id")
    return (
        rows.select_related("acknowledged_by")
        .prefetch_related(Prefetch("events", queryset=events))
        .order_by("-created_at", "-id")
    )


@filter_input(AlertFilterSet, name="AlertFilter")
class AlertFilter:
    pass  # one argument per AlertFilterSet filter (no docstring: it would be the description)


@strawberry.type
class AlertsQuery:
    @strawberry_django.field(extensions=_authenticated)
    def alerts(
        self,
        info: Info,
        slug: str,
        filters: AlertFilter | None = None,
        ordering: Annotated[
            str | None, strawberry.argument(description=ALERT_ORDERING_HELP)
        ] = None,
        pagination: MentionPagination | None = None,
    ) -> list[AlertType]:
        """Alerts newest first (or by ``ordering``), filtered like the REST list."""
        tenant = tenant_for(info, slug, Cap.VIEW_ALERTS)
        rows = with_history(Alert.objects.for_tenant(tenant), tenant.pk)
        rows = apply_filters(AlertFilterSet, rows, filters, ordering)
        return paginate(rows, pagination)  # type: ignore[arg-type,return-value]

    @strawberry_django.field(extensions=_authenticated)
    def alerts_count(self, info: Info, slug: str, filters: AlertFilter | None = None) -> int:
        """How many alerts match the filters."""
        tenant = tenant_for(info, slug, Cap.VIEW_ALERTS)
        rows = apply_filters(AlertFilterSet, Alert.objects.for_tenant(tenant), filters)
        return int(rows.order_by().count())

    @strawberry_django.field(extensions=_authenticated)
    def alert_rules(self, info: Info, slug: str) -> list[AlertRuleType]:
        """The tenant's rules by name, each with its false-positive rate."""
        tenant = tenant_for(info, slug, Cap.VIEW_ALERTS)
        rates = selectors.false_positive_rates(tenant=tenant)
        rules = list(AlertRule.objects.for_tenant(tenant).order_by("name", "id"))
        for rule in rules:
            rule._false_positive_rate = rates.get(rule.pk, EMPTY_RATE)  # type: ignore[attr-defined]
        return rules  # type: ignore[return-value]

    @strawberry_django.field(extensions=_authenticated)
    def hoax_clusters(
        self, info: Info, slug: str, pagination: MentionPagination | None = None
    ) -> list[HoaxClusterType]:
        """Hoax clusters, most recently active first."""
        tenant = tenant_for(info, slug, Cap.VIEW_ALERTS)
        rows: Any = selectors.clusters(tenant=tenant)
        return paginate(rows, pagination)  # type: ignore[return-value]

    @strawberry_django.field(extensions=_authenticated)
    def owned_accounts(self, info: Info, slug: str) -> list[OwnedAccountType]:
        """The tenant's own accounts watched for hijacking."""
        tenant = tenant_for(info, slug, Cap.VIEW_ALERTS)
        return selectors.owned_accounts(tenant=tenant)  # type: ignore[return-value]
