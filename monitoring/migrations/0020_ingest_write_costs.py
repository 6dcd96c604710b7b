"""Less work per ingested mention: the assignee index only over assigned mentions, and the
items of an ingest chunk stored without compression (they are cleared seconds later, when the
pipeline commits the chunk, so compressing them cost CPU on every request for nothing kept)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0019_hoax_band_latest_per_hash'),
        ('tenants', '0009_notification_channels'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='mention',
            name='assignee',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assigned_mentions', to=settings.AUTH_USER_MODEL, verbose_name='assignee'),
        ),
        migrations.AddIndex(
            model_name='mention',
            index=models.Index(condition=models.Q(('assignee__isnull', False)), fields=['assignee'], name='mention_assigned'),
        ),
        migrations.RunSQL(
            "ALTER TABLE monitoring_ingestchunk ALTER COLUMN items SET STORAGE EXTERNAL",
            "ALTER TABLE monitoring_ingestchunk ALTER COLUMN items SET STORAGE EXTENDED",
        ),
    ]
