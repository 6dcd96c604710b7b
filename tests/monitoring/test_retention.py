"""Retention of mentions and raw payloads per tenant, through the real database and the task
entry points (docs/data-lifecycle.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from monitoring import retention, tasks
from monitoring.models import IngestBatch, IngestChunk, Mention, MetricBucket, WebhookDelivery
from tenants.queues import SLOW_CLUSTER
from tests.factories import TenantFactory
from tests.monitoring.factories import (
    IngestBatchFactory,
    MentionFactory,
    MetricBucketFactory,
    SourceFactory,
)

RAW = {"id": "123", "user": {"screen_name": "someone", "phone": "0812"}}


def mention(tenant: Any, days_ago: float, **extra: Any) -> Mention:
    return MentionFactory(
        tenant=tenant, published_at=timezone.now() - timedelta(days=days_ago), raw=RAW, **extra
    )


def batch(tenant: Any, days_ago: float, items: list[Any], done: bool) -> IngestBatch:
    made = IngestBatchFactory(tenant=tenant)
    IngestBatch.objects.filter(pk=made.pk).update(
        received_at=timezone.now() - timedelta(days=days_ago)
    )
    IngestChunk.objects.create(
        tenant=tenant,
        batch=made,
        index=0,
        items=items,
        done_at=timezone.now() if done else None,
    )
    return made


def test_old_mentions_go_rollups_stay_and_raw_json_is_cleared(
    tenant: Any, other_tenant: Any
) -> None:
    tenant.mention_retention_days, tenant.raw_payload_retention_days = 30, 7
    tenant.save()
    old = [mention(tenant, 40 + n) for n in range(5)]
    middle = [mention(tenant, 10 + n) for n in range(3)]
    recent = [mention(tenant, 1)]
    elsewhere = mention(other_tenant, 400)  # default retention of 400 days: kept
    MetricBucketFactory(tenant=tenant, bucket=old[0].published_at, mentions=5)
    old_batch = batch(tenant, 40, [{"text": "personal"}], done=False)
    stale_chunk_batch = batch(tenant, 10, [{"text": "personal"}], done=False)
    fresh_chunk_batch = batch(tenant, 1, [{"text": "personal"}], done=False)
    WebhookDelivery.objects.create(
        tenant=tenant, source=SourceFactory(tenant=tenant, kind="webhook"), delivery_id="d1"
    )
    WebhookDelivery.objects.filter(delivery_id="d1").update(
        received_at=timezone.now() - timedelta(days=40)
    )

    result = retention.apply_retention(tenant_id=tenant.pk, batch_size=2)

    assert result.finished
    assert result.mentions_deleted == 5 and result.raw_cleared == 3
    left = Mention.objects.for_tenant(tenant)
    assert set(left.values_list("pk", flat=True)) == {m.pk for m in middle + recent}
    assert all(m.raw == {} for m in left.filter(pk__in=[m.pk for m in middle]))
    assert left.get(pk=recent[0].pk).raw == RAW
    assert Mention.objects.get(pk=elsewhere.pk).raw == RAW  # another tenant's data untouched
    assert MetricBucket.objects.for_tenant(tenant).get().mentions == 5  # rollups kept
    assert not IngestBatch.objects.filter(pk=old_batch.pk).exists()
    assert not IngestChunk.objects.filter(batch_id=old_batch.pk).exists()
    assert IngestChunk.objects.get(batch=stale_chunk_batch).items == []
    assert IngestChunk.objects.get(batch=fresh_chunk_batch).items == [{"text": "personal"}]
    assert not WebhookDelivery.objects.filter(delivery_id="d1").exists()


def test_empty_settings_keep_everything(tenant: Any) -> None:
    tenant.mention_retention_days = tenant.raw_payload_retention_days = None
    tenant.save()
    ancient = mention(tenant, 5000)
    tasks.apply_retention(tenant.pk)
    assert Mention.objects.get(pk=ancient.pk).raw == RAW
    assert tenant.pk not in retention.tenants_with_retention()


def test_a_run_out_of_time_stops_and_queues_itself_again(
    tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    mention(tenant, 500)
    monkeypatch.setattr(retention, "BUDGET_S", 0.0)
    result = tasks.apply_retention(tenant.pk)
    assert result["finished"] is False and result["mentions_deleted"] == 0
    assert [(q.name(), q.key) for q in OrmQ.objects.all()] == [
        (f"retention-{tenant.pk}", SLOW_CLUSTER)
    ]


def test_daily_schedule_queues_one_task_per_tenant_with_retention(tenant: Any) -> None:
    schedule = Schedule.objects.get(name="monitoring.apply_retention")
    assert schedule.func == "monitoring.tasks.apply_retention_all"
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.next_run.hour == 19  # 02:00 in Jakarta
    keeps_all = TenantFactory(mention_retention_days=None, raw_payload_retention_days=None)
    assert tasks.apply_retention_all() == 1
    assert [(q.task["args"], q.key) for q in OrmQ.objects.all()] == [((tenant.pk,), SLOW_CLUSTER)]
    assert keeps_all.pk not in retention.tenants_with_retention()


@pytest.mark.parametrize(
    ("queryset", "index"),
    [
        (
            lambda t: (
                Mention.objects.for_tenant(t)
                .exclude(raw={})
                .filter(published_at__lt=timezone.now())
            ),
            "mention_raw_kept",
        ),
        (
            lambda t: Mention.objects.for_tenant(t).filter(published_at__lt=timezone.now()),
            "mention_timeline",
        ),
    ],
)
def test_retention_queries_can_walk_their_index(tenant: Any, queryset: Any, index: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")  # the order must come from the index
    # As monitoring.retention asks: oldest first, one bounded batch.
    plan = queryset(tenant).order_by("published_at").values_list("pk")[:2000].explain()
    assert f"using {index} on monitoring_mention" in plan  # an index (only) scan, no sort
    assert "Sort" not in plan and "published_at <" in plan.split("Index Cond:")[1]


def test_admins_set_retention_over_rest_with_validation(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    client = api(members["admin"])
    url = f"/api/v1/tenants/{tenant.slug}/"
    assert client.get(url).json()["mention_retention_days"] == 400
    ok = client.patch(
        url, {"mention_retention_days": 90, "raw_payload_retention_days": None}, format="json"
    )
    assert ok.status_code == 200
    assert ok.json()["mention_retention_days"] == 90
    assert ok.json()["raw_payload_retention_days"] is None
    bad = client.patch(url, {"raw_payload_retention_days": 0}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "raw_payload_retention_days"
    analyst = api(members["analyst"]).patch(url, {"mention_retention_days": 1}, format="json")
    assert analyst.status_code == 403
    tenant.refresh_from_db()
    assert (tenant.mention_retention_days, tenant.raw_payload_retention_days) == (90, None)
