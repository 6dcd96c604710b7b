"""Holding-statement templates become one agency table (``tenants.dbtables.AGENCY_MODELS``):
``StatementTemplate`` gets ``agency`` and a nullable ``tenant``; the rows of
``AgencyStatementTemplate`` move over (new ids: a statement drafted from one now points at its
copy through ``template``); ``incidents.0006`` drops ``Statement.agency_template`` and
``playbooks.0005`` the old table (and makes ``agency`` required: not in the transaction that
moved the rows, which PostgreSQL refuses while their deferred checks are pending).

A database made before this migration has ``playbooks_statementtemplate`` as a tenant table
(primary key ``(tenant_id, id)``, the statements' foreign key on ``(tenant_id, template_id)``):
it loses those keys first (a key column cannot become nullable)."""

import django.db.models.deletion
from django.db import migrations, models


def leave_tenant_keys(apps, schema_editor):
    from tenants.db.schema import TenantKeySchemaEditor

    if isinstance(schema_editor, TenantKeySchemaEditor):
        schema_editor.remove_tenant_keys(
            [apps.get_model("playbooks", "StatementTemplate")], leaving=True
        )


FIELDS = (
    "name",
    "language",
    "part_confirmed",
    "part_actions",
    "part_empathy",
    "part_next_update",
    "placeholders",
    "must_not",
)


def move_agency_templates(apps, schema_editor):
    Template = apps.get_model("playbooks", "StatementTemplate")
    Old = apps.get_model("playbooks", "AgencyStatementTemplate")
    Tenant = apps.get_model("tenants", "Tenant")
    Statement = apps.get_model("incidents", "Statement")
    for tenant_id, agency_id in Tenant.objects.values_list("pk", "agency_id"):
        Template.objects.filter(tenant_id=tenant_id).update(agency_id=agency_id)
    for old in Old.objects.order_by("pk"):
        new = Template.objects.create(
            agency_id=old.agency_id, tenant=None, **{name: getattr(old, name) for name in FIELDS}
        )
        Template.objects.filter(pk=new.pk).update(
            created_at=old.created_at, updated_at=old.updated_at
        )
        Statement.objects.filter(agency_template_id=old.pk).update(
            template_id=new.pk, agency_template_id=None
        )
    # Check the moved rows' foreign keys now: the indexes this migration still creates cannot
    # be built while checks are pending.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0005_replies"),
        ("playbooks", "0003_canned_answers"),
        ("tenants", "0009_notification_channels"),
    ]

    operations = [
        migrations.RunPython(leave_tenant_keys, migrations.RunPython.noop),
        migrations.AddField(
            model_name="statementtemplate",
            name="agency",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenants.agency",
            ),
        ),
        migrations.AlterField(
            model_name="statementtemplate",
            name="tenant",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty: the agency's, shared by all its tenants.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="statementtemplates",
                to="tenants.tenant",
            ),
        ),
        migrations.RunPython(move_agency_templates, migrations.RunPython.noop),
    ]
