"""Hoax band hashes: 16 bands of 3 rows instead of 32 of 4 (``monitoring.early_warning.live``,
``HOAX_BANDS``/``HOAX_ROWS``): half the band rows per signed mention; a pair of copies is found
more often at Jaccard 0.4 and about as often at 0.5 and 0.6 (the presets' thresholds). The old rows are deleted and rebuilt from the
stored member signatures (``HoaxMember.signature``), oldest first, so the live rule finds the
same earlier members as if they had been stored this way. The banding is copied here (a
migration must not change when the code does); ``tests/early_warning/test_hoax_bands.py``
checks that it equals the live one. Going back rebuilds the rows of 32 bands of 4."""

import numpy as np
from django.db import migrations

BATCH = 20_000
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_BAND_SALT = np.uint64(0x5167A9)

_UPSERT = """
    INSERT INTO monitoring_hoaxband (tenant_id, band, hash, mention_id, published_at)
    SELECT * FROM unnest(%s::bigint[], %s::smallint[], %s::bigint[], %s::bigint[],
        %s::timestamptz[])
    ON CONFLICT (tenant_id, hash) DO UPDATE
        SET mention_id = EXCLUDED.mention_id, published_at = EXCLUDED.published_at
        WHERE monitoring_hoaxband.published_at <= EXCLUDED.published_at
"""


def _mix64(x):
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def band_hashes(values, bands=16, rows=3):
    flat = np.asarray(values, dtype=np.uint64).reshape(len(values), -1)
    matrix = flat[:, : bands * rows].reshape(len(values), bands, rows)
    out = np.broadcast_to(
        _mix64(np.arange(bands, dtype=np.uint64) + _BAND_SALT), (len(values), bands)
    ).copy()
    for row in range(rows):
        out = _mix64(out ^ matrix[:, :, row])
    return out.view(np.int64)


def _store(cursor, batch, bands, rows):
    latest = {}  # (tenant, hash) -> (band, mention, time); the batch is oldest first: the last wins
    matrix = np.stack([np.frombuffer(bytes(sig), dtype=np.uint64) for _, _, _, sig in batch])
    hashes = band_hashes(matrix, bands, rows).tolist()
    for (tenant, mention, at, _), values in zip(batch, hashes, strict=True):
        for band, value in enumerate(values):
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


def _rebuild(connection, bands, rows):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM monitoring_hoaxband")
    with connection.chunked_cursor() as read, connection.cursor() as write:
        read.execute(
            "SELECT tenant_id, mention_id, published_at, signature FROM monitoring_hoaxmember"
            " ORDER BY published_at, mention_id"
        )
        while batch := read.fetchmany(BATCH):
            _store(write, batch, bands, rows)


def rebuild(apps, schema_editor):
    _rebuild(schema_editor.connection, 16, 3)


def rebuild_32x4(apps, schema_editor):
    _rebuild(schema_editor.connection, 32, 4)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0025_rollup_fillfactor"),
    ]

    operations = [migrations.RunPython(rebuild, rebuild_32x4)]
