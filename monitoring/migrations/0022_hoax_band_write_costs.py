"""Less work per hoax band row: the band table's tenant key without its foreign-key constraint.

The live hoax rule upserts up to 32 band rows per signed mention, and the deferred check of the
constraint ran once per inserted row at the commit of every delivery (about a third of the
upsert's own database time). The rows stay pinned to their tenant (``tenant_id`` leads every key,
every statement names it, the row-level policy binds it) and a tenant's deletion still takes
them (Django's ``on_delete``)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0021_author_slots_and_high_risk_index'),
        ('tenants', '0009_notification_channels'),
    ]

    operations = [
        migrations.AlterField(
            model_name='hoaxband',
            name='tenant',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='hoaxbands', to='tenants.tenant'),
        ),
    ]
