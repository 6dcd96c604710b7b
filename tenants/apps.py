from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_schedules(**kwargs: Any) -> None:
    """The recurring tasks of this app, created (or corrected) after every migrate."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="tenants.prune_rate_counters",
        defaults={
            "func": "tenants.tasks.prune_rate_counters",
            "schedule_type": Schedule.MINUTES,
            "minutes": 10,
            "repeats": -1,
        },
    )
    Schedule.objects.update_or_create(
        name="tenants.sweep_outbox",
        defaults={
            "func": "tenants.tasks.sweep_outbox",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    Schedule.objects.update_or_create(
        name="tenants.prune_outbox",
        defaults={
            "func": "tenants.tasks.prune_outbox",
            "schedule_type": Schedule.HOURLY,
            "repeats": -1,
        },
    )


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Agencies and tenants"

    def ready(self) -> None:
        from django.core import checks

        from tenants import audit, crypto, openapi, outbox  # noqa: F401 - registers the OpenAPI schemes

        checks.register(crypto.check_encryption_keys, checks.Tags.security)
        checks.register(outbox.check_subscribers)
        audit.register_models()
        post_migrate.connect(ensure_schedules, sender=self)
