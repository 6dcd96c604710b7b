"""Hoax band hashes: 16 bands of 3 rows instead of 32 of 4 (``monitoring.early_warning.live``,
``HOAX_BANDS``/``HOAX_ROWS``): half the band rows per signed mention; a pair of copies is found
more often at Jaccard 0.4 and about as often at 0.5 and 0.6 (the presets' thresholds). The old
rows are deleted and rebuilt from the stored member signatures (``HoaxMember.signature``),
oldest first, so the live rule finds the same earlier members as if they had been stored this
way. The hash and the upsert are migration 0019's (frozen with it: a migration must not change
when the code does), with this banding; ``tests/early_warning/test_hoax_bands.py`` checks that
it equals the live one. Going back rebuilds the rows of 32 bands of 4."""

import importlib

import numpy as np
from django.db import migrations

FIRST = importlib.import_module("monitoring.migrations.0019_hoax_band_latest_per_hash")
BATCH = 20_000


def band_hashes(values, bands=16, rows=3):
    return FIRST.band_hashes(values, bands, rows)


def _store(cursor, batch, bands, rows):
    latest = {}  # (tenant, hash) -> (band, mention, time); the batch is oldest first: the last wins
    matrix = np.stack([np.frombuffer(bytes(sig), dtype=np.uint64) for _, _, _, sig in batch])
    hashes = band_hashes(matrix, bands, rows).tolist()
    for (tenant, mention, at, _), values in zip(batch, hashes, strict=True):
        for band, value in enumerate(values):
            latest[(tenant, value)] = (band, mention, at)
    keys = list(latest)
    cursor.execute(
        FIRST._UPSERT,
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
