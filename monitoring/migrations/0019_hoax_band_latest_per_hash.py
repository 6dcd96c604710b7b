"""Hoax band hashes: one row per (tenant, hash) holding the latest member with that band value,
the band's index mixed into the hash (``monitoring.alerting.hoax.band_hashes``, computed with
numpy instead of one blake2b per band). The old rows (one per member and band, another hash)
are deleted and rebuilt from the stored member signatures (``HoaxMember.signature``), oldest
first, so the live rule finds the same earlier members as if they had been stored this way.
The hash is copied here (a migration must not change when the code does);
``tests/early_warning/test_hoax_bands.py`` checks that it equals the live one."""

import numpy as np
from django.db import migrations, models

BANDS, ROWS = 32, 4
BATCH = 20_000
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_BAND_SALT = np.uint64(0x5167A9)


def _mix64(x):
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def band_hashes(values, bands=BANDS, rows=ROWS):
    flat = np.asarray(values, dtype=np.uint64).reshape(len(values), -1)
    matrix = flat[:, : bands * rows].reshape(len(values), bands, rows)
    out = np.broadcast_to(
        _mix64(np.arange(bands, dtype=np.uint64) + _BAND_SALT), (len(values), bands)
    ).copy()
    for row in range(rows):
        out = _mix64(out ^ matrix[:, :, row])
    return out.view(np.int64)


_UPSERT = """
    INSERT INTO monitoring_hoaxband (tenant_id, band, hash, mention_id, published_at)
    SELECT * FROM unnest(%s::bigint[], %s::smallint[], %s::bigint[], %s::bigint[],
        %s::timestamptz[])
    ON CONFLICT (tenant_id, hash) DO UPDATE
        SET mention_id = EXCLUDED.mention_id, published_at = EXCLUDED.published_at
        WHERE monitoring_hoaxband.published_at <= EXCLUDED.published_at
"""


def _store(cursor, batch):
    latest = {}  # (tenant, hash) -> (band, mention, time); the batch is oldest first: the last wins
    matrix = np.stack([np.frombuffer(bytes(sig), dtype=np.uint64) for _, _, _, sig in batch])
    for (tenant, mention, at, _), hashes in zip(batch, band_hashes(matrix).tolist(), strict=True):
        for band, value in enumerate(hashes):
            latest[(tenant, value)] = (band, mention, at)
    keys = list(latest)
    cursor.execute(
        _UPSERT,
        [
            [t for t, _ in keys],
            [latest[k][0] for k in keys],
            [h for _, h in keys],
            [latest[k][1] for k in keys],
            [latest[k][2] for k in keys],
        ],
    )


def rebuild(apps, schema_editor):
    connection = schema_editor.connection
    with connection.chunked_cursor() as read, connection.cursor() as write:
        read.execute(
            "SELECT tenant_id, mention_id, published_at, signature FROM monitoring_hoaxmember"
            " ORDER BY published_at, mention_id"
        )
        while rows := read.fetchmany(BATCH):
            _store(write, rows)


def forget(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM monitoring_hoaxband")


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0018_score_corrections_and_tenant_classifiers"),
        ("tenants", "0009_notification_channels"),
    ]

    operations = [
        migrations.RunSQL("DELETE FROM monitoring_hoaxband", migrations.RunSQL.noop),
        migrations.RemoveIndex(model_name="hoaxband", name="hoax_band_lookup"),
        migrations.AddConstraint(
            model_name="hoaxband",
            constraint=models.UniqueConstraint(
                fields=("tenant", "hash"), name="hoax_band_unique_hash"
            ),
        ),
        # back: the old table starts empty (the band column has no value to give old rows)
        migrations.RunPython(rebuild, forget),
    ]
