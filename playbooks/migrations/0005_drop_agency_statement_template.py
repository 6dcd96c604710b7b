"""The agency's templates live in ``StatementTemplate`` (``0004``): the old table goes, and its
uniqueness rule (name and language within the agency) holds for the agency's rows there."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0006_statement_template_folded"),
        ("playbooks", "0004_statement_templates_agency_table"),
    ]

    operations = [
        migrations.DeleteModel(name="AgencyStatementTemplate"),
        migrations.AlterField(
            model_name="statementtemplate",
            name="agency",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenants.agency",
            ),
        ),
        migrations.AddConstraint(
            model_name="statementtemplate",
            constraint=models.UniqueConstraint(
                condition=models.Q(tenant__isnull=True),
                fields=("agency", "name", "language"),
                name="agency_statement_template_once",
            ),
        ),
    ]
