"""The default alert rules for every tenant that existed before early warning (new tenants get
them from ``tenants.services.create_tenant``). Matched by name, so running it on a tenant that
already has them adds nothing. The defaults are copied here (a migration must not change when
the code does)."""

from datetime import timedelta

from django.db import migrations

HOUR = timedelta(hours=1)
DEFAULTS = {
    "Volume spike": {"kind": "spike"},
    "Negative surge": {"kind": "negative-surge"},
    "Provocation burst": {"kind": "provocation-burst"},
    "Hoax spread": {
        "kind": "hoax-spread",
        "window": 24 * HOUR,
        "cooldown": 6 * HOUR,
        "severity": "sev2",
    },
    "Influential author": {"kind": "influential-author", "cooldown": 6 * HOUR},
    "Engagement velocity": {"kind": "velocity", "cooldown": 6 * HOUR},
    "Owned-account anomaly": {"kind": "owned-account", "cooldown": 6 * HOUR, "severity": "sev2"},
}


def forwards(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    AlertRule = apps.get_model("monitoring", "AlertRule")
    for tenant_id in Tenant.objects.order_by("pk").values_list("pk", flat=True):
        have = set(AlertRule.objects.filter(tenant_id=tenant_id).values_list("name", flat=True))
        AlertRule.objects.bulk_create(
            [
                AlertRule(
                    tenant_id=tenant_id,
                    name=name,
                    kind=settings["kind"],
                    sensitivity="medium",
                    window=settings.get("window", HOUR),
                    cooldown=settings.get("cooldown", 2 * HOUR),
                    severity=settings.get("severity", ""),
                    enabled=True,
                    params={},
                )
                for name, settings in DEFAULTS.items()
                if name not in have
            ]
        )


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0012_early_warning"), ("tenants", "0007_invitations")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
