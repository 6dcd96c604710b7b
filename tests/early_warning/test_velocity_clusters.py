"""Velocity per hoax cluster: the summed engagement of a cluster's members, from the snapshots
kept when a source re-delivers them (real pipeline, real database; the earlier snapshots are
written as a crawler's earlier re-read would have left them)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from monitoring.models import Alert, EngagementSnapshot, HoaxCluster, HoaxMember, Mention
from tests.early_warning.test_live import HOAX, ingest, only, post

pytestmark = pytest.mark.django_db

COPIES = [
    HOAX,
    HOAX.upper() + " 😱😱",
    "#KopiSenja " + HOAX + " https://beritaviral.blogspot.com/x",
    HOAX + " #viral",
]
LONE = "Pagi ini ngopi di Kopi Senja cabang Bandung, enak sekali rasanya"


def campaign(tenant: Any, published: datetime) -> HoaxCluster:
    """Four copies of one claim by four accounts, each in its own chunk: one hoax cluster."""
    for n, text in enumerate(COPIES):
        ingest(tenant, [post(f"h{n}", text, published + timedelta(seconds=n), handle=f"akun{n}")])
    cluster = HoaxCluster.objects.for_tenant(tenant).get()
    assert HoaxMember.objects.for_tenant(tenant).filter(cluster=cluster).count() == len(COPIES)
    return cluster


def earlier_read(tenant: Any, at: datetime, likes: dict[str, int]) -> None:
    """The snapshots a re-read at ``at`` left (external id -> likes)."""
    ids = dict(
        Mention.objects.for_tenant(tenant)
        .filter(external_id__in=list(likes))
        .values_list("external_id", "id")
    )
    EngagementSnapshot.objects.bulk_create(
        [
            EngagementSnapshot(tenant=tenant, mention_id=ids[ext], at=at, likes=n)
            for ext, n in likes.items()
        ]
    )


def redeliver(tenant: Any, published: datetime, likes: dict[str, int]) -> None:
    """The source delivers the items again with new numbers (one chunk)."""
    texts = {f"h{n}": (text, f"akun{n}") for n, text in enumerate(COPIES)}
    texts["lone"] = (LONE, "pelanggan")
    items = []
    for ext, n in likes.items():
        text, handle = texts[ext]
        offset = int(ext[1:]) if ext.startswith("h") else 0
        items.append(post(ext, text, published + timedelta(seconds=offset), handle=handle, likes=n))
    ingest(tenant, items)


def velocity_alerts(tenant: Any) -> list[Alert]:
    return list(Alert.objects.for_tenant(tenant).filter(kind="velocity").order_by("id"))


def test_members_each_speeding_up_a_little_cross_together_once(tenant: Any) -> None:
    only(tenant, "velocity", "hoax-spread")
    now = timezone.now()
    published = now - timedelta(minutes=90)
    cluster = campaign(tenant, published)
    earlier_read(tenant, now - timedelta(minutes=45), {f"h{n}": 100 for n in range(4)})
    # each member: 133 an hour, then 333 an hour: 2.5x, but under the 500 an hour of medium;
    # together 1,333 an hour against 533 before
    redeliver(tenant, published, {f"h{n}": 350 for n in range(4)})
    [alert] = velocity_alerts(tenant)
    assert alert.dedupe_key == f"velocity:c{cluster.pk}" and alert.cluster_id == cluster.pk
    assert f"hoax cluster {cluster.key}" in alert.explanation
    assert "(4 members: " in alert.explanation and "together" in alert.explanation
    for n in range(4):
        assert f"x:h{n} (" in alert.explanation
    assert alert.observed == pytest.approx(4 * 250 / 0.75, rel=0.02)
    assert alert.baseline == pytest.approx(4 * 100 / 0.75, rel=0.02)
    assert alert.observed >= alert.threshold
    assert len(alert.sample_mention_ids) == 4
    # the next re-read, faster still: merged into the same alert, no second one
    time.sleep(1.2)  # snapshots closer than a second apart are noise
    redeliver(tenant, published, {f"h{n}": 1500 for n in range(4)})
    assert [a.pk for a in velocity_alerts(tenant)] == [alert.pk]
    alert.refresh_from_db()
    assert alert.evidence_count == 2


def test_a_lone_mention_still_fires_on_its_own(tenant: Any) -> None:
    only(tenant, "velocity", "hoax-spread")
    now = timezone.now()
    published = now - timedelta(minutes=90)
    campaign(tenant, published)
    ingest(tenant, [post("lone", LONE, published, handle="pelanggan")])
    lone = Mention.objects.for_tenant(tenant).get(external_id="lone")
    assert HoaxMember.objects.for_tenant(tenant).get(mention_id=lone.pk).cluster_id is None
    earlier_read(tenant, now - timedelta(minutes=45), {"lone": 100})
    redeliver(tenant, published, {"lone": 1000})  # 1,200 an hour against 133 before
    [alert] = velocity_alerts(tenant)
    assert alert.dedupe_key == f"velocity:m{lone.pk}" and alert.cluster_id is None
    assert "x:lone" in alert.explanation and "hoax cluster" not in alert.explanation


def test_a_member_and_its_cluster_crossing_together_page_once_as_the_cluster(
    tenant: Any,
) -> None:
    only(tenant, "velocity", "hoax-spread")
    now = timezone.now()
    published = now - timedelta(minutes=90)
    cluster = campaign(tenant, published)
    earlier_read(tenant, now - timedelta(minutes=45), {f"h{n}": 100 for n in range(4)})
    # h0 alone crosses (1,200 an hour), and so do the four together
    redeliver(tenant, published, {"h0": 1000, "h1": 350, "h2": 350, "h3": 350})
    [alert] = velocity_alerts(tenant)
    assert alert.dedupe_key == f"velocity:c{cluster.pk}" and alert.cluster_id == cluster.pk
    assert "(4 members: x:h0 (" in alert.explanation  # the fastest first


def test_a_member_crossing_alone_fires_under_its_clusters_key(tenant: Any) -> None:
    only(tenant, "velocity", "hoax-spread")
    now = timezone.now()
    published = now - timedelta(minutes=90)
    cluster = campaign(tenant, published)
    # h1-h3 were fast and have stopped; h0 speeds up: the sum slows, h0 alone crosses
    earlier_read(tenant, now - timedelta(minutes=45), {"h0": 100, "h1": 3000, "h2": 3000})
    earlier_read(tenant, now - timedelta(minutes=45), {"h3": 3000})
    redeliver(tenant, published, {"h0": 1000, "h1": 3000, "h2": 3000, "h3": 3000})
    [alert] = velocity_alerts(tenant)
    assert alert.dedupe_key == f"velocity:c{cluster.pk}" and alert.cluster_id == cluster.pk
    assert "Engagement on x:h0 grew" in alert.explanation
    assert f"It belongs to hoax cluster {cluster.key}." in alert.explanation
