"""Statements draft from one template model (``playbooks.StatementTemplate``, the tenant's or
its agency's): ``agency_template`` goes (``playbooks.0004`` moved its references to
``template``)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0005_replies"),
        ("playbooks", "0004_statement_templates_agency_table"),
    ]

    operations = [
        migrations.RemoveField(model_name="statement", name="agency_template"),
    ]
