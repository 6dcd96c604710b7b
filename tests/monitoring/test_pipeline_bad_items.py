"""One bad item never sinks its chunk, and a failed batch says what, not how.

Items go in over HTTP (or, for items an older release let through, straight into a chunk) and
through the real pipeline task (``monitoring.tasks.process_chunk``) on PostgreSQL; results are
read back over HTTP.
"""

from __future__ import annotations

import traceback
from datetime import datetime
from typing import Any

import pytest
from django.utils import timezone
from django_q.models import Task

from monitoring import tasks
from monitoring.models import IngestBatch, IngestChunk, Mention
from tenants import services as tenant_services
from tests.monitoring.test_pipeline import item


def run_chunks(tenant: Any) -> None:
    for chunk in IngestChunk.objects.for_tenant(tenant).filter(done_at__isnull=True):
        tasks.process_chunk(tenant.pk, chunk.pk)


def test_a_hashtag_longer_than_its_column_does_not_sink_the_chunk(
    client: Any, api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    _, key = tenant_services.create_api_key(tenant=tenant, name="rss")
    long_tag = "#" + "kopi" * 60  # 241 characters; the column holds 200
    response = client.post(
        f"/api/v1/tenants/{tenant.slug}/ingest/",
        [item(1), item(2, f"Kopi Senja mantap {long_tag}"), item(3)],
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    assert response.status_code == 202 and response.json()["accepted"] == 3
    run_chunks(tenant)

    batch = api(members["client"]).get(
        f"/api/v1/tenants/{tenant.slug}/batches/{response.json()['batch_id']}/"
    )
    assert batch.json()["status"] == "done" and batch.json()["inserted_count"] == 3
    stored = Mention.objects.get(tenant=tenant, external_id="2")
    assert stored.hashtags == [long_tag.lower()[:200]]


def test_an_item_the_database_refuses_is_rejected_alone_with_its_reason(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    # Items an older release queued under looser rules: one handle is longer than its column.
    good = [{**item(n), "lang": "", "url": "", "raw": {}} for n in (1, 2, 3)]
    for index, entry in enumerate(good):
        entry["index"] = index
        entry["author"] = {"handle": f"user{index}", "name": "", "followers": 1, "verified": False}
        entry["engagement"] = {"likes": 1, "shares": 0, "replies": 0, "views": 0}
    good[1]["author"]["handle"] = "h" * 300
    batch = IngestBatch.objects.create(tenant=tenant, item_count=3, chunk_count=1)
    IngestChunk.objects.create(tenant=tenant, batch=batch, index=0, items=good)

    run_chunks(tenant)

    body = api(members["client"]).get(f"/api/v1/tenants/{tenant.slug}/batches/{batch.pk}/").json()
    assert body["status"] == "done"
    assert (body["inserted_count"], body["duplicate_count"]) == (2, 0)
    assert body["rejected"] == [
        {"index": 1, "field": "", "message": "A value is longer than its field allows."}
    ]
    mentions = api(members["client"]).get(f"/api/v1/tenants/{tenant.slug}/mentions/").json()
    assert sorted(m["external_id"] for m in mentions["results"]) == ["1", "3"]


def test_a_failed_batch_shows_a_stable_error_not_a_traceback(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    batch = IngestBatch.objects.create(tenant=tenant, item_count=1, chunk_count=1)
    chunk = IngestChunk.objects.create(
        tenant=tenant,
        batch=batch,
        index=0,
        items=[{"platform": "x"}],  # unreadable: no text
    )
    try:
        tasks.process_chunk(tenant.pk, chunk.pk)
    except Exception as exc:  # noqa: BLE001 - recorded as django-q2 records a failed task
        result = f"{exc} : {traceback.format_exc()}"
    else:
        raise AssertionError("the chunk should have failed")
    assert "Traceback" in result and ".py" in result
    # django-q2 calls the hook with the task after the last attempt.
    failed = Task(
        id="f" * 32,
        name=f"chunk-{chunk.pk}",
        func="monitoring.tasks.process_chunk",
        args=(tenant.pk, chunk.pk),
        kwargs={},
        result=result,
        started=timezone.now(),
        stopped=timezone.now(),
        success=False,
    )
    tasks.on_chunk_failed(failed)

    body = api(members["client"]).get(f"/api/v1/tenants/{tenant.slug}/batches/{batch.pk}/").json()
    assert body["status"] == "failed"
    assert body["error"].startswith("processing_failed: ")
    assert "Traceback" not in body["error"] and ".py" not in body["error"]
    assert "KeyError" not in body["error"] and "text" not in body["error"]


@pytest.mark.django_db
def test_array_literals_keep_every_element_as_it_was():
    """The pipeline stages arrays as PostgreSQL array literals (issue 20 item 3): any text, even
    with quotes, backslashes, commas, braces, spaces or the word NULL, comes back unchanged."""
    from django.db import connection

    from monitoring import sqlarrays

    texts = ['a"b', "c\\d", "e,f", "{g}", " h ", "NULL", "", "ünï 😀", "#tag", "x\ty"]
    moments = [
        timezone.now(),
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.get_fixed_timezone(420)),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::timestamptz[]",
            [
                sqlarrays.texts(texts),
                sqlarrays.texts([]),
                sqlarrays.ints([1, 20, 3]),
                sqlarrays.ints([]),
                sqlarrays.times(moments),
            ],
        )
        assert cursor.fetchone() == (texts, [], [1, 20, 3], [], moments)
