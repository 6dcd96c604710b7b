"""The 5-minute author rollup top authors read for the partial hours at the ends of a period
(``AuthorSlot``), filled from the mentions already stored before its indexes are built; and the
partial index of the highest-risk mentions, newest first (``mention_high_risk``)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Every stored mention with an author, per 5 minutes (UTC, the boundaries of MetricBucket),
# author and query (0: all of them). Read in one sequential pass and grouped by sorting (for this
# migration's transaction only): in ``mention_author`` order, the grouping's own order and the
# planner's choice on a large table, the mentions are read one random page at a time.
AUTHOR_SLOTS = """
SET LOCAL enable_indexscan = off;
SET LOCAL enable_indexonlyscan = off;
SET LOCAL enable_bitmapscan = off;
SET LOCAL work_mem = '256MB';
INSERT INTO monitoring_authorslot (tenant_id, query_id, bucket, platform, author_handle,
    author_name, mentions, reach)
SELECT m.tenant_id, q.query_id, date_bin('5 minutes', m.published_at, '2000-01-01 00:00:00+00'),
    m.platform, m.author_handle, max(m.author_name), count(*), max(m.author_followers)
FROM monitoring_mention m
CROSS JOIN LATERAL unnest(array_prepend(0::bigint, m.matched_queries)) AS q(query_id)
WHERE m.author_handle <> ''
GROUP BY 1, 2, 3, 4, 5
"""


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0020_ingest_write_costs'),
        ('tenants', '0009_notification_channels'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuthorSlot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('query_id', models.BigIntegerField(default=0)),
                ('bucket', models.DateTimeField()),
                ('platform', models.CharField(choices=[('x', 'X (Twitter)'), ('instagram', 'Instagram'), ('facebook', 'Facebook'), ('tiktok', 'TikTok'), ('youtube', 'YouTube'), ('mastodon', 'Mastodon'), ('rss', 'News / RSS'), ('news', 'News site'), ('forum', 'Forum'), ('other', 'Other')], max_length=16)),
                ('author_handle', models.CharField(max_length=200)),
                ('author_name', models.CharField(blank=True, max_length=200)),
                ('mentions', models.PositiveIntegerField(default=0)),
                ('reach', models.PositiveBigIntegerField(default=0)),
            ],
            options={
                'ordering': ['bucket'],
            },
        ),
        migrations.AddField(
            model_name='authorslot',
            name='tenant',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='tenants.tenant'),
        ),
        migrations.RunSQL(AUTHOR_SLOTS, migrations.RunSQL.noop, elidable=True),
        migrations.AddIndex(
            model_name='mention',
            index=models.Index(condition=models.Q(('risk__gte', 70)), fields=['tenant', '-published_at', '-id'], name='mention_high_risk'),
        ),
        migrations.AddIndex(
            model_name='authorslot',
            index=models.Index(fields=['tenant', 'query_id', 'bucket', '-reach', 'platform', 'author_handle'], name='author_slot_by_reach'),
        ),
        migrations.AddConstraint(
            model_name='authorslot',
            constraint=models.UniqueConstraint(fields=('tenant', 'author_handle', 'bucket', 'platform', 'query_id'), name='author_slot_unique'),
        ),
    ]
