"""The test subscriber: records what it was handed, counting applications per event.

A second application of one event does not fail (that would hide it behind a retry): it
increments ``applications``, which the tests assert stays 1.

``SIGAP_TEST_OUTBOX_HANG`` (a file path, set only for a cluster the crash test kills) makes the
handler write its row, touch that file and then hang with its transaction open.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from django.db import connection

from tests.outbox_subscriber.models import Application

_APPLY = f"""
    INSERT INTO {Application._meta.db_table} (subscriber, event_id, tenant_id, applications,
        query_ids, buckets, inserted_ids, updated_ids)
    VALUES (%s, %s, %s, 1, %s, %s, %s, %s)
    ON CONFLICT (subscriber, event_id) DO UPDATE SET
        applications = {Application._meta.db_table}.applications + 1
"""  # noqa: S608 - the table name is the model's


def apply(subscriber: str, event: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            _APPLY,
            [
                subscriber,
                event.pk,
                event.tenant_id,
                event.query_ids,
                event.buckets,
                event.inserted_ids,
                event.updated_ids,
            ],
        )


def record(event: Any) -> None:
    apply("test_recorder", event)
    hang = os.environ.get("SIGAP_TEST_OUTBOX_HANG")
    if hang:
        Path(hang).touch()
        time.sleep(600)  # killed with its transaction open
