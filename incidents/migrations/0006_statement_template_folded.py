"""Statements draft from one template model (``playbooks.StatementTemplate``, the tenant's or
its agency's): ``agency_template`` goes (``playbooks.0004`` moved its references to
``template``). ``template`` keeps the template's id without a database constraint, as
``IncidentPlaybook.playbook`` does: deleting an agency's template changes no tenant's rows."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0005_replies"),
        ("playbooks", "0004_statement_templates_agency_table"),
    ]

    operations = [
        migrations.RemoveField(model_name="statement", name="agency_template"),
        migrations.AlterField(
            model_name="statement",
            name="template",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The template's id (the template may have been deleted since).",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="playbooks.statementtemplate",
            ),
        ),
    ]
