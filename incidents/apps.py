from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import AppConfig


def next_report_run(now: datetime) -> datetime:
    """Client reports are made daily at 06:00 Jakarta time (23:00 UTC)."""
    run = now.astimezone(UTC).replace(hour=23, minute=0, second=0, microsecond=0)
    return run if run > now else run + timedelta(days=1)


def ensure_schedules(**kwargs: Any) -> None:
    """The recurring tasks of this app, created (or corrected) after every migrate."""
    from django.utils import timezone
    from django_q.models import Schedule

    from tenants.schedules import keep

    keep("incidents.sweep_timers", "incidents.tasks.sweep_timers", Schedule.MINUTES, minutes=1)
    keep(
        "incidents.sweep_statements",
        "incidents.statements.tasks.sweep_statements",
        Schedule.MINUTES,
        minutes=1,
    )
    # Client reports: daily at 06:00 Jakarta time (23:00 UTC); weekly ones cover the week to
    # Monday, monthly ones the month to the 1st (docs/evaluation.md).
    keep(
        "incidents.schedule_client_reports",
        "incidents.tasks.schedule_client_reports",
        Schedule.DAILY,
        first_run=next_report_run(timezone.now()),
    )


class IncidentsConfig(AppConfig):
    """Crisis incidents: lifecycle, team, tasks, timeline, response-time targets. Depends on
    ``monitoring`` and ``playbooks``; nothing depends on it."""

    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, post_save

        from incidents import admin_overview
        from incidents.alerts import on_alert_saved, on_alerts_opened
        from monitoring.signals import alerts_opened

        post_migrate.connect(ensure_schedules, sender=self)
        admin_overview.register()  # open incidents on the admin's tenant and agency pages
        # A new alert queues the incident side in its own transaction (incidents.alerts).
        post_save.connect(
            on_alert_saved, sender="monitoring.Alert", dispatch_uid="incidents.alert_opened"
        )
        alerts_opened.connect(on_alerts_opened, dispatch_uid="incidents.alerts_opened")
        # seed_demo (monitoring's command) runs the incident part of the demo through this hook.
        from incidents.demo import seed_incident
        from tenants.demo import register_seeder

        register_seeder("incidents", seed_incident)
        # Missed response targets and task reminders reach people by e-mail (tenants.notify).
        from incidents import hooks, notifications

        hooks.on_target_breached(notifications.on_target_breached)
        hooks.on_task_reminder(notifications.on_task_reminder)

        # The client approver's e-mailed decision link (tenants.action_links), and crisis mode
        # sent to the tenant's outbound webhooks (tenants.notify), never for drills.
        from incidents.statements import links
        from tenants import notify

        links.register()
        hooks.on_crisis_mode(notify.emit_event)

        # ... and a resolved incident with its finished review (incidents.evaluation.demo).
        from incidents.evaluation.demo import seed_review

        register_seeder("evaluation", seed_review)
