from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_schedules(**kwargs: Any) -> None:
    """The recurring tasks of this app, created (or corrected) after every migrate."""
    from django_q.models import Schedule

    from tenants.schedules import keep

    keep(
        "tenants.prune_rate_counters",
        "tenants.tasks.prune_rate_counters",
        Schedule.MINUTES,
        minutes=10,
    )
    keep(
        "tenants.prune_task_results",
        "tenants.tasks.prune_task_results",
        Schedule.MINUTES,
        minutes=10,
    )
    keep("tenants.sweep_outbox", "tenants.tasks.sweep_outbox", Schedule.MINUTES, minutes=1)
    keep("tenants.prune_outbox", "tenants.tasks.prune_outbox", Schedule.HOURLY)
    keep(
        "tenants.notify.sweep_deliveries",
        "tenants.notify.tasks.sweep_deliveries",
        Schedule.MINUTES,
        minutes=1,
    )


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Agencies and tenants"

    def ready(self) -> None:
        from django.core import checks

        from tenants import audit, crypto, dbshape, openapi, outbox  # noqa: F401 - registers the OpenAPI schemes

        checks.register(crypto.check_encryption_keys, checks.Tags.security)
        checks.register(dbshape.check_models, checks.Tags.models)
        checks.register(outbox.check_subscribers)
        audit.register_models()
        post_migrate.connect(ensure_schedules, sender=self)
        # Row-level security: every connection applies the code's tenant scope (dbscope), and
        # every migrate keeps the policies and the application role's grants (rls).
        from django.db.backends.signals import connection_created

        from tenants import dbscope, rls

        connection_created.connect(dbscope.install, dispatch_uid="sigap-dbscope")
        post_migrate.connect(rls.after_migrate, sender=self, dispatch_uid="sigap-rls")
