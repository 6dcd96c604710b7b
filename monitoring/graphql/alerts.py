"""GraphQL of early warning: the client portal reads its alerts (with explanation and history),
alert rules (with their false-positive rate), hoax clusters and owned accounts. Types are built
from ``monitoring.fields`` like REST's serializers; every type derives from ``TenantOwnedType``
with ``alerts.view``, so nested lists (an alert's history) keep only rows the caller may read.
Root fields take the tenant's ``slug`` and answer like REST (NOT_FOUND outside the tenant,
FORBIDDEN without ``alerts.view``, BAD_USER_INPUT for a bad filter).

Mutations (``AlertsMutation``) act through the same services as REST
(``monitoring.early_warning.services``), with the same capabilities: ``acknowledge_alert``,
``snooze_alert``, ``resolve_alert`` and ``dismiss_alert`` need ``alerts.ack``; rules and owned
accounts (``create_``/``update_``/``delete_alert_rule``, ``..._owned_account``) need
``alerts.manage``. Another tenant's alert, rule or query reads like a missing one
(BAD_USER_INPUT naming the field); a service's field error is BAD_USER_INPUT naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

import strawberry
import strawberry_django
from django.db.models import Model, Prefetch, QuerySet
from django.utils.dateparse import parse_duration
from django.utils.duration import duration_string
from django.utils.translation import gettext as _
from strawberry.scalars import JSON

from monitoring import fields
from monitoring.early_warning import selectors, services
from monitoring.filtersets import ALERT_ORDERINGS, AlertFilterSet
from monitoring.graphql.filters import MentionPagination, paginate
from monitoring.models import (
    Alert,
    AlertEvent,
    AlertRule,
    HoaxCluster,
    MonitoredQuery,
    OwnedAccount,
)
from tenants.api.pagination import DIGITS
from tenants.graphql.context import Info
from tenants.graphql.errors import bad_input, service_errors
from tenants.graphql.filters import apply_filters, filter_input
from tenants.graphql.permissions import AUTHENTICATED as _authenticated
from tenants.graphql.permissions import tenant_for
from tenants.graphql.types import TenantOwnedType, UserSummaryType, public_type
from tenants.models import Tenant, User
from tenants.roles import Cap

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


# --- mutations ------------------------------------------------------------------------------

DURATION_HELP = "A duration: 01:00:00, 1 00:00:00 or ISO 8601 PT1H (positive, at most 30 days)."


def _row(model: type[Model], tenant: Tenant, value: Any, field: str, message: str) -> Any:
    """The tenant's row with id ``value``, or BAD_USER_INPUT on ``field`` (another tenant's id
    reads like one that does not exist)."""
    row = None
    if DIGITS.fullmatch(str(value)):
        row = model._default_manager.for_tenant(tenant).filter(pk=int(value)).first()  # type: ignore[attr-defined]
    if row is None:
        raise bad_input(f"{field}: {message}", field)
    return row


def _alert(tenant: Tenant, id: strawberry.ID) -> Alert:
    return _row(Alert, tenant, id, "id", _("No such alert in this tenant."))  # type: ignore[no-any-return]


def _rule(tenant: Tenant, id: strawberry.ID) -> AlertRule:
    return _row(AlertRule, tenant, id, "id", _("No such alert rule in this tenant."))  # type: ignore[no-any-return]


def _duration(value: str, field: str) -> timedelta:
    parsed = parse_duration(value.strip()) if isinstance(value, str) else None
    if parsed is None:
        raise bad_input(f"{field}: " + _("Give a duration such as 01:00:00 or PT1H."), field)
    return parsed


def _user(info: Info) -> User | None:
    user = info.context.request.user
    return user if isinstance(user, User) else None


def _acted(tenant: Tenant, alert: Alert) -> AlertType:
    """The alert as stored after the action, with its history (as the list reads it)."""
    return with_history(Alert.objects.for_tenant(tenant), tenant.pk).get(pk=alert.pk)  # type: ignore[return-value]


def _with_rate(rule: AlertRule) -> AlertRuleType:
    rule._false_positive_rate = selectors.false_positive_rate(rule=rule)  # type: ignore[attr-defined]
    return rule  # type: ignore[return-value]


def _rule_changes(
    tenant: Tenant,
    *,
    name: Any,
    query: Any,
    sensitivity: Any,
    window: Any,
    cooldown: Any,
    severity: Any,
    enabled: Any,
    params: Any,
) -> dict[str, Any]:
    """The arguments given (``UNSET`` ones left out), in the services' terms."""
    given = {
        "name": name,
        "sensitivity": sensitivity,
        "severity": severity,
        "enabled": enabled,
        "params": params,
    }
    changes = {key: value for key, value in given.items() if value is not strawberry.UNSET}
    for key in ("name", "sensitivity", "enabled", "params"):
        if key in changes and changes[key] is None:
            raise bad_input(f"{key}: " + _("This field may not be null."), key)
    if window is not strawberry.UNSET:
        changes["window"] = _duration(window, "window")
    if cooldown is not strawberry.UNSET:
        changes["cooldown"] = _duration(cooldown, "cooldown")
    if query is not strawberry.UNSET:
        changes["query"] = (
            None
            if query is None
            else _row(MonitoredQuery, tenant, query, "query", _("No such query in this tenant."))
        )
    return changes


def _alert_action(
    info: Info, slug: str, id: strawberry.ID, run: Callable[[Alert, User | None], Any]
) -> AlertType:
    tenant = tenant_for(info, slug, Cap.ACK_ALERTS)
    alert = _alert(tenant, id)
    with service_errors():
        run(alert, _user(info))
    return _acted(tenant, alert)


@strawberry.type
class AlertsMutation:
    @strawberry_django.mutation(extensions=_authenticated)
    def acknowledge_alert(
        self, info: Info, slug: str, id: strawberry.ID, note: str = ""
    ) -> AlertType:
        """Someone is on it (from open or snoozed; ends a snooze), like REST's
        ``alerts/{id}/acknowledge/``."""
        return _alert_action(
            info, slug, id, lambda a, u: services.acknowledge(alert=a, user=u, note=note)
        )

    @strawberry_django.mutation(extensions=_authenticated)
    def snooze_alert(
        self, info: Info, slug: str, id: strawberry.ID, until: datetime, note: str = ""
    ) -> AlertType:
        """Quiet until ``until`` (in the future, at most 30 days ahead); never counts as
        acknowledging."""
        return _alert_action(
            info,
            slug,
            id,
            lambda a, u: services.snooze(alert=a, user=u, until=until, note=note),
        )

    @strawberry_django.mutation(extensions=_authenticated)
    def resolve_alert(self, info: Info, slug: str, id: strawberry.ID, note: str = "") -> AlertType:
        """It was real and it is over."""
        return _alert_action(
            info, slug, id, lambda a, u: services.resolve(alert=a, user=u, note=note)
        )

    @strawberry_django.mutation(extensions=_authenticated)
    def dismiss_alert(self, info: Info, slug: str, id: strawberry.ID, reason: str) -> AlertType:
        """A false positive, with the reason (required; counts in the rule's false-positive
        rate)."""
        return _alert_action(
            info, slug, id, lambda a, u: services.dismiss(alert=a, user=u, reason=reason)
        )

    @strawberry_django.mutation(extensions=_authenticated)
    def create_alert_rule(
        self,
        info: Info,
        slug: str,
        name: str,
        kind: str,
        query: strawberry.ID | None = strawberry.UNSET,
        sensitivity: str | None = strawberry.UNSET,
        window: Annotated[
            str | None, strawberry.argument(description=DURATION_HELP)
        ] = strawberry.UNSET,
        cooldown: Annotated[
            str | None, strawberry.argument(description=DURATION_HELP)
        ] = strawberry.UNSET,
        severity: str | None = strawberry.UNSET,
        enabled: bool | None = strawberry.UNSET,
        params: JSON | None = strawberry.UNSET,
    ) -> AlertRuleType:
        """A new rule, checked like REST's ``alert-rules/`` (a field error names the field)."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ALERTS)
        changes = _rule_changes(
            tenant,
            name=name,
            query=query,
            sensitivity=sensitivity,
            window=window,
            cooldown=cooldown,
            severity=severity,
            enabled=enabled,
            params=params,
        )
        with service_errors():
            rule = services.create_rule(tenant=tenant, kind=kind, **changes)
        return _with_rate(rule)

    @strawberry_django.mutation(extensions=_authenticated)
    def update_alert_rule(
        self,
        info: Info,
        slug: str,
        id: strawberry.ID,
        name: str | None = strawberry.UNSET,
        query: strawberry.ID | None = strawberry.UNSET,
        sensitivity: str | None = strawberry.UNSET,
        window: Annotated[
            str | None, strawberry.argument(description=DURATION_HELP)
        ] = strawberry.UNSET,
        cooldown: Annotated[
            str | None, strawberry.argument(description=DURATION_HELP)
        ] = strawberry.UNSET,
        severity: str | None = strawberry.UNSET,
        enabled: bool | None = strawberry.UNSET,
        params: JSON | None = strawberry.UNSET,
    ) -> AlertRuleType:
        """Change a rule (only the arguments given; the kind never changes). Changing its
        query, sensitivity, window or params starts its learnt state afresh."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ALERTS)
        rule = _rule(tenant, id)
        changes = _rule_changes(
            tenant,
            name=name,
            query=query,
            sensitivity=sensitivity,
            window=window,
            cooldown=cooldown,
            severity=severity,
            enabled=enabled,
            params=params,
        )
        with service_errors():
            services.update_rule(instance=rule, **changes)
        return _with_rate(AlertRule.objects.for_tenant(tenant).get(pk=rule.pk))

    @strawberry_django.mutation(extensions=_authenticated)
    def delete_alert_rule(self, info: Info, slug: str, id: strawberry.ID) -> strawberry.ID:
        """Delete a rule and its learnt state; its alerts stay. Answers the deleted id."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ALERTS)
        rule = _rule(tenant, id)
        with service_errors():
            services.delete_rule(instance=rule)
        return strawberry.ID(str(id))

    @strawberry_django.mutation(extensions=_authenticated)
    def create_owned_account(
        self, info: Info, slug: str, platform: str, handle: str, label: str = ""
    ) -> OwnedAccountType:
        """Watch one of the client's own accounts for posts unlike its history."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ALERTS)
        with service_errors():
            account = services.create_owned_account(
                tenant=tenant, platform=platform, handle=handle, label=label
            )
        return account  # type: ignore[return-value]

    @strawberry_django.mutation(extensions=_authenticated)
    def update_owned_account(
        self, info: Info, slug: str, id: strawberry.ID, label: str
    ) -> OwnedAccountType:
        """Change an owned account's label (another handle is another account)."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ALERTS)
        account = _row(OwnedAccount, tenant, id, "id", _("No such owned account in this tenant."))
        with service_errors():
            services.update_owned_account(instance=account, label=label)
        return OwnedAccount.objects.for_tenant(tenant).get(pk=account.pk)  # type: ignore[return-value]

    @strawberry_django.mutation(extensions=_authenticated)
    def delete_owned_account(self, info: Info, slug: str, id: strawberry.ID) -> strawberry.ID:
        """Stop watching an owned account. Answers the deleted id."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ALERTS)
        account = _row(OwnedAccount, tenant, id, "id", _("No such owned account in this tenant."))
        with service_errors():
            services.delete_owned_account(instance=account)
        return strawberry.ID(str(id))
