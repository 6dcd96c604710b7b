"""factory_boy factories of the monitoring app. Children inherit their parent's tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import factory

from monitoring import authors, counts
from monitoring.models import (
    Alert,
    AlertRule,
    HoaxCluster,
    IngestBatch,
    LexiconEntry,
    LowCredibilityDomain,
    Mention,
    MetricBucket,
    MonitoredQuery,
    OwnedAccount,
    PipelineEvent,
    Source,
    TrackedTerm,
)
from tests.factories import TenantFactory

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


class MonitoredQueryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonitoredQuery

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Query {n}")
    query = "kopi AND (basi OR boikot*)"


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    tenant = factory.SubFactory(TenantFactory)
    kind = "rss"
    name = factory.Sequence(lambda n: f"Feed {n}")
    config = factory.LazyAttribute(lambda o: {"url": "https://news.example/feed.xml"})


class IngestBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IngestBatch

    tenant = factory.SubFactory(TenantFactory)
    source = factory.SubFactory(SourceFactory, tenant=factory.SelfAttribute("..tenant"))
    item_count = 3


class PipelineEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PipelineEvent

    tenant = factory.SubFactory(TenantFactory)
    batch = factory.SubFactory(IngestBatchFactory, tenant=factory.SelfAttribute("..tenant"))
    inserted_ids = factory.LazyFunction(lambda: [1, 2])


class MentionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mention

    tenant = factory.SubFactory(TenantFactory)
    platform = "x"
    external_id = factory.Sequence(lambda n: f"post-{n}")
    author_handle = factory.Sequence(lambda n: f"user{n}")
    author_followers = 100
    text = "Kopi Senja enak banget"
    language = "id"
    published_at = factory.Sequence(lambda n: NOW - timedelta(minutes=n))
    sentiment = "neutral"

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Mention:
        mention = super()._create(model_class, *args, **kwargs)
        # counted as the pipeline counts what it stores
        authors.add(mention.tenant_id, [mention])
        counts.add(mention.tenant_id, [(mention.published_at, mention.sentiment)])
        return mention


class MetricBucketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricBucket

    tenant = factory.SubFactory(TenantFactory)
    query_id = 0
    bucket = NOW
    mentions = 1


class TrackedTermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackedTerm

    tenant = factory.SubFactory(TenantFactory)
    text = factory.Sequence(lambda n: f"Produk {n}")


class LexiconEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LexiconEntry

    tenant = factory.SubFactory(TenantFactory)
    label = "hoax"
    phrase = factory.Sequence(lambda n: f"kabar palsu {n}")


class LowCredibilityDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LowCredibilityDomain

    tenant = factory.SubFactory(TenantFactory)
    domain = factory.Sequence(lambda n: f"hoaks{n}.example")


# --- early warning ---------------------------------------------------------------------------


class AlertRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlertRule

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Lonjakan {n}")
    kind = "spike"


class HoaxClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HoaxCluster

    tenant = factory.SubFactory(TenantFactory)
    key = factory.Sequence(lambda n: f"x:hoax-{n}")
    first_poster = "x:penyebar"
    first_at = factory.LazyFunction(lambda: NOW - timedelta(hours=3))
    last_at = NOW
    text = "Kopi Senja pakai biji basi, jangan beli lagi!"
    member_count = 4
    author_count = 3
    authors = ["x:penyebar", "x:akun2", "x:akun3"]
    links = ["https://hoaks.example/kopi"]
    low_credibility_links = ["https://hoaks.example/kopi"]
    spread = [{"hour": 0, "mentions": 2}, {"hour": 1, "mentions": 2}]


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    tenant = factory.SubFactory(TenantFactory)
    rule = factory.SubFactory(AlertRuleFactory, tenant=factory.SelfAttribute("..tenant"))
    kind = "spike"
    severity = "sev3"
    status = "open"
    dedupe_key = factory.Sequence(lambda n: f"spike:q0:{n}")
    title = "Volume spike: Lonjakan"
    explanation = "60 mentions in the 15 minutes to 2026-11-20T07:15:00Z, 4.0x the expected 15.0"
    observed = 60.0
    baseline = 15.0
    threshold = 40.0
    sigma = 6.5
    score = 0.8
    window_start = factory.LazyFunction(lambda: NOW - timedelta(minutes=15))
    window_end = NOW
    sample_authors = ["x:budi"]
    first_evidence_at = NOW
    last_evidence_at = NOW


class OwnedAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OwnedAccount

    tenant = factory.SubFactory(TenantFactory)
    platform = "x"
    handle = factory.Sequence(lambda n: f"kopisenja{n}")
    label = "Akun resmi"
