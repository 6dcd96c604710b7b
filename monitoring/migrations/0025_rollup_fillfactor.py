from django.db import migrations

# The rollups the pipeline adds to in place at every chunk (an upsert's update of the current
# bucket): free room in each page, so that the update is heap-only (no index entry) when no
# indexed column changes, which is always the case here (the counts are in no index).
TABLES = ("monitoring_metricbucket", "monitoring_termbucket", "monitoring_mentiontally")


class Migration(migrations.Migration):

    dependencies = [
        ("monitoring", "0024_hoax_cluster_authors"),
    ]

    operations = [
        migrations.RunSQL(
            [f"ALTER TABLE {table} SET (fillfactor = 70)" for table in TABLES],
            [f"ALTER TABLE {table} RESET (fillfactor)" for table in TABLES],
        ),
    ]
