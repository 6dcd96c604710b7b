from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


def next_retention_run(now: datetime) -> datetime:
    """Retention runs daily at 02:00 Jakarta time (19:00 UTC), when traffic is lowest."""
    run = now.astimezone(UTC).replace(hour=19, minute=0, second=0, microsecond=0)
    return run if run > now else run + timedelta(days=1)


def ensure_schedules(**kwargs: Any) -> None:
    """The recurring tasks of this app, created (or corrected) after every migrate."""
    from django.utils import timezone
    from django_q.models import Schedule

    from tenants.schedules import keep

    keep(
        "monitoring.poll_due_sources",
        "monitoring.tasks.poll_due_sources",
        Schedule.MINUTES,
        minutes=1,
    )
    keep(
        "monitoring.prune_webhook_signatures",
        "monitoring.tasks.prune_webhook_signatures",
        Schedule.MINUTES,
        minutes=10,
    )
    keep(
        "monitoring.sweep_alerts",
        "monitoring.tasks.sweep_alerts",
        Schedule.MINUTES,
        minutes=1,
    )
    keep(
        "monitoring.escalation.sweep",
        "monitoring.escalation.tasks.sweep",
        Schedule.MINUTES,
        minutes=1,
    )
    keep(
        "monitoring.prune_alert_state",
        "monitoring.tasks.prune_alert_state",
        Schedule.HOURLY,
    )
    keep(
        "monitoring.apply_retention",
        "monitoring.tasks.apply_retention_all",
        Schedule.DAILY,
        first_run=next_retention_run(timezone.now()),
    )


def default_alert_rules(sender: Any, tenant: Any, **kwargs: Any) -> None:
    """A tenant just created gets the default alert rules, in its creator's transaction. The
    creator's database scope (an agency admin's request) does not list the new tenant yet: the
    rules are written in that scope widened by this one tenant, restored at once."""
    from monitoring.early_warning.services import ensure_default_rules
    from tenants import dbscope

    scope = dbscope.current()
    if scope.all_tenants or tenant.pk in scope.tenant_ids:
        ensure_default_rules(tenant=tenant)
        return
    with dbscope.tenant_scope((*scope.tenant_ids, tenant.pk), agency_id=scope.agency_id):
        ensure_default_rules(tenant=tenant)


class MonitoringConfig(AppConfig):
    """Keywords, sources, mentions and scoring. Depends on ``tenants``."""

    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from monitoring import admin_overview, polling

        admin_overview.register()  # the panels of the admin's tenant start page
        post_migrate.connect(ensure_schedules, sender=self)
        # Every write of a source keeps its poll schedule row in step (monitoring.polling).
        post_save.connect(polling.on_source_saved, sender="monitoring.Source")
        post_delete.connect(polling.on_source_deleted, sender="monitoring.Source")
        # A new alert starts its escalation in its own transaction (monitoring.escalation).
        from django.utils.translation import gettext_lazy

        from monitoring.escalation import engine
        from tenants import action_links

        post_save.connect(
            engine.on_alert_saved, sender="monitoring.Alert", dispatch_uid="monitoring.escalate"
        )
        from monitoring.signals import alerts_opened

        alerts_opened.connect(engine.on_alerts_opened, dispatch_uid="monitoring.escalate_many")
        action_links.register(
            engine.ACK_KIND,
            label=gettext_lazy("Acknowledge the alert"),
            perform=engine.acknowledge_from_link,
        )
        # Every tenant starts with the default alert rules (docs/alerts.md).
        from tenants.signals import tenant_created

        tenant_created.connect(default_alert_rules, dispatch_uid="monitoring.default_alert_rules")
        # Early warning judges every committed pipeline chunk (monitoring.early_warning.live),
        # a tenant's pending chunks together.
        from monitoring.early_warning.live import BATCH_EVENTS, BATCH_MENTIONS
        from tenants import outbox

        outbox.register_subscriber(
            "monitoring.PipelineEvent",
            "early_warning",
            "monitoring.early_warning.live.on_pipeline_event",
            batch=BATCH_EVENTS,
            batch_weight=BATCH_MENTIONS,
        )
