"""The default hoax-spread rule takes its severity from the evidence (it was SEV2, which opened
an incident for every three-account copy), and the default influential-author rule is SEV3 (one
account is a warning, not an incident of its own). Existing tenants' default rules change only
where they still hold the old default (matched by name, kind and severity): a tenant's own
choice stays. Copied values, as in 0013 (a migration must not change when the code does)."""

from django.db import migrations

# name -> (kind, old severity, new severity)
CHANGED = {
    "Hoax spread": ("hoax-spread", "sev2", ""),
    "Influential author": ("influential-author", "", "sev3"),
}


def forwards(apps, schema_editor):
    AlertRule = apps.get_model("monitoring", "AlertRule")
    for name, (kind, old, new) in CHANGED.items():
        AlertRule.objects.filter(name=name, kind=kind, severity=old).update(severity=new)


def backwards(apps, schema_editor):
    AlertRule = apps.get_model("monitoring", "AlertRule")
    for name, (kind, old, new) in CHANGED.items():
        AlertRule.objects.filter(name=name, kind=kind, severity=new).update(severity=old)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0015_labels")]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
