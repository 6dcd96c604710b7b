"""The rollups reads take instead of scanning mentions, filled from the mentions already stored:
the hourly author rollup top authors read (``AuthorBucket``) and the hourly tally of mentions per
sentiment that counts read (``MentionTally``); ``mention_author`` gains ``published_at`` (one
author's hour)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# Every stored mention with an author, per hour (UTC), author and query (0: all of them).
AUTHORS = """
INSERT INTO monitoring_authorbucket (tenant_id, query_id, bucket, platform, author_handle,
    author_name, mentions, reach)
SELECT m.tenant_id, q.query_id, date_trunc('hour', m.published_at, 'UTC'), m.platform,
    m.author_handle, max(m.author_name), count(*), max(m.author_followers)
FROM monitoring_mention m
CROSS JOIN LATERAL unnest(array_prepend(0::bigint, m.matched_queries)) AS q(query_id)
WHERE m.author_handle <> ''
GROUP BY 1, 2, 3, 4, 5
"""
# Every stored mention, per hour (UTC) and sentiment.
TALLY = """
INSERT INTO monitoring_mentiontally (tenant_id, bucket, sentiment, mentions)
SELECT tenant_id, date_trunc('hour', published_at, 'UTC'), sentiment, count(*)
FROM monitoring_mention
GROUP BY 1, 2, 3
"""


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0013_default_alert_rules'),
        ('tenants', '0007_invitations'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuthorBucket',
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
        migrations.CreateModel(
            name='MentionTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('bucket', models.DateTimeField()),
                ('sentiment', models.CharField(blank=True, choices=[('positive', 'Positive'), ('neutral', 'Neutral'), ('negative', 'Negative')], max_length=8)),
                ('mentions', models.BigIntegerField(default=0)),
            ],
            options={
                'ordering': ['bucket'],
            },
        ),
        migrations.RemoveIndex(
            model_name='mention',
            name='mention_author',
        ),
        migrations.AddIndex(
            model_name='mention',
            index=models.Index(fields=['tenant', 'author_handle', 'published_at'], name='mention_author'),
        ),
        migrations.AddField(
            model_name='authorbucket',
            name='tenant',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='tenants.tenant'),
        ),
        migrations.AddField(
            model_name='mentiontally',
            name='tenant',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='tenants.tenant'),
        ),
        migrations.AddIndex(
            model_name='authorbucket',
            index=models.Index(fields=['tenant', 'query_id', '-reach', '-bucket', 'platform', 'author_handle'], name='author_bucket_by_reach'),
        ),
        migrations.AddConstraint(
            model_name='authorbucket',
            constraint=models.UniqueConstraint(fields=('tenant', 'platform', 'author_handle', 'bucket', 'query_id'), name='author_bucket_unique'),
        ),
        migrations.AddConstraint(
            model_name='mentiontally',
            constraint=models.UniqueConstraint(fields=('tenant', 'bucket', 'sentiment'), name='mention_tally_unique'),
        ),
        migrations.RunSQL(AUTHORS, migrations.RunSQL.noop, elidable=True),
        migrations.RunSQL(TALLY, migrations.RunSQL.noop, elidable=True),
    ]
