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


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Agencies and tenants"

    def ready(self) -> None:
        from django.core import checks

        from tenants import audit, crypto, openapi  # noqa: F401 - registers the OpenAPI schemes

        checks.register(crypto.check_encryption_keys, checks.Tags.security)
        audit.register_models()
        post_migrate.connect(ensure_schedules, sender=self)
