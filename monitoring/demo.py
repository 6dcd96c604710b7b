"""The demo's monitoring data: queries, tracked terms, sources and a few thousand realistic
mentions over the last 7 days for each demo tenant, sent through the real pipeline
(``services.accept_items``: durable batch, one django-q2 task per chunk, processed by the
running cluster), and kept current.

Running it again adds nothing: queries, terms and sources are matched by name, the mentions keep
the same external ids (``demo-<brand>-<n>``), ids already stored are not sent again, and a resent
item could not make a second row anyway (unique on tenant, platform and external id).

Running it again later moves the demo forward instead (``shift_to_now``): every time of every
row of the tenant (mentions, rollups, batches, sources' last success and error, and the rows of
any other tenant model) moves by the same whole number of hours, so the newest mention is less
than an hour old and the last 7 days always hold the demo. Whole hours keep the 5-minute and
hourly rollup buckets aligned and their counts true; nothing moves past now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import F, Max
from django.utils import timezone

from monitoring import services
from monitoring.alerting.spike import SpikeDetector
from monitoring.choices import AlertKind, SourceKind, SourceStatus, TermKind
from monitoring.early_warning import live
from monitoring.early_warning.services import ensure_default_rules
from monitoring.models import (
    AlertRule,
    DetectorState,
    IngestBatch,
    LowCredibilityDomain,
    Mention,
    MetricBucket,
    MonitoredQuery,
    OwnedAccount,
    Source,
    TrackedTerm,
)
from monitoring.querylang import parse
from tenants.dbtables import tenant_models
from tenants.models import Tenant

RUN_ID = "demo"
SEED = 2026
SEND_SIZE = 1000  # items per accept_items call, as a client would send them
DAYS = 7  # the demo's mentions lie within this many days back from now
# They are generated over a little less, so that with the newest up to an hour old (the shift
# moves whole hours) every one of them still lies within the last ``DAYS`` days.
SPAN_DAYS = DAYS - 2 / 24
COUNT = 3000  # demo mentions per tenant

# Tenant models whose times are not the demo's story but the machinery's clocks: left alone.
NOT_SHIFTED = {
    "monitoring.PipelineEvent": "outbox: its dispatch times drive redelivery and cleanup",
    "tenants.OutboxDelivery": "outbox acknowledgements",
    "monitoring.WebhookSignature": "replay guard: expires with the signature's timestamp",
}
FAR = timedelta(days=365 * 1000)  # out of every real row's way while unique keys move

# name -> (query, languages)
QUERIES: dict[str, dict[str, tuple[str, list[str]]]] = {
    "kopi": {
        "Kopi Senja": ('"kopi senja" OR kopsen OR #kopisenja* OR @kopisenja', ["id"]),
        "Kopi Senja (EN)": ('"kopi senja" OR #kopisenja* OR @kopisenja', ["en"]),
        "Boikot": ("boikot* OR boycott* OR #boikotkopisenja", []),
        "Keluhan layanan": (
            "(pelayanan OR layanan OR antri*) AND (lambat OR lama OR buruk OR kecewa)",
            [],
        ),
        "Keamanan pangan": ("keracunan OR basi OR kadaluarsa OR (food poisoning)", []),
    },
    "bank": {
        "Bank Lestari": ('"bank lestari" OR "lestari mobile" OR #banklestari OR @banklestari', []),
        "Boikot": ("boikot* OR boycott* OR #boikotbanklestari", []),
        "Keluhan layanan": (
            "(pelayanan OR layanan OR antri* OR cs) AND (lambat OR lama OR buruk OR kecewa)",
            [],
        ),
        "Keamanan akun": (
            "(akun OR data OR rekening OR customer) AND "
            "(diretas OR bocor OR phishing OR hacked OR leaked)",
            [],
        ),
    },
}
TERMS: dict[str, list[tuple[str, str]]] = {
    "kopi": [
        ("Kopi Senja", TermKind.BRAND),
        ("Kopsen", TermKind.BRAND),
        ("kopi gula aren", TermKind.PRODUCT),
        ("Kopi Kenangan", TermKind.COMPETITOR),
    ],
    "bank": [
        ("Bank Lestari", TermKind.BRAND),
        ("Lestari Mobile", TermKind.PRODUCT),
        ("Bank Nusantara", TermKind.COMPETITOR),
    ],
}
LOW_CREDIBILITY = ["beritaviral.blogspot.com"]
OWNED = {"kopi": ("x", "kopisenja"), "bank": ("x", "banklestari")}
# The story "make run" shows at once: a spike of complaints in the last minutes and a hoax
# copied by several accounts in the last hour, both relative to now (monitoring.early_warning).
SPIKE_COUNT = 120
SPIKE_SPAN = timedelta(seconds=60)  # the spike's mentions lie within this span before now
# Short complaints in each author's own words: a spike of people complaining, not one text
# copied by 120 accounts (that would be a copy campaign, and the hoax-spread rule would say so).
SPIKE_TEXT = {
    "kopi": [
        "Kopi Senja {place} kacau banget 😡",
        "antrean Kopsen {place} gila 😡",
        "udah {n} menit nunggu @kopisenja 😤",
        "pesanan Kopi Senja gak jadi2",
        "Kopi Senja {place} lambat parah",
        "kapok ke Kopsen {place}",
        "kasir Kopi Senja cuma satu?!",
    ],
    "bank": [
        "Lestari Mobile error lagi 😡",
        "@banklestari aplikasinya down",
        "transfer gagal {n}x 😡 #banklestari",
        "Lestari Mobile force close terus",
        "m-banking Bank Lestari lumpuh",
        "Bank Lestari {place} gangguan?",
        "Lestari Mobile gak bisa login",
    ],
}
SPIKE_PLACES = ["Kemang", "Dago", "Tunjungan", "Malioboro", "Margonda", "Senopati"]
HOAX_TEXT = {
    "kopi": "Beredar kabar Kopi Senja pakai biji kopi kadaluarsa dari gudang bekas, sudah "
    "banyak korban keracunan di Jakarta",
    "bank": "Beredar kabar Bank Lestari akan dibekukan OJK minggu depan, segera tarik semua "
    "tabungan kalian sebelum terlambat",
}
HOAX_EDITS = [
    "{text}",
    "{upper} 😱😱",
    "#viral {text}",
    "{text} https://beritaviral.blogspot.com/2026/berita-{n}",
    "{text} sebarkan!! 🙏",
    "{text} #waspada",
    "{upper} https://beritaviral.blogspot.com/x{n}",
    "{text} 😭",
]


def topic_of(tenant: Tenant) -> str:
    """Which demo brand a tenant talks about: the bank for bank-like slugs, else the coffee."""
    return "bank" if "bank" in tenant.slug else "kopi"


@dataclass
class Seeded:
    queries_created: int
    terms_created: int
    sent: int
    already_stored: int
    batches: list[IngestBatch]
    shift: timedelta = timedelta(0)
    story: int = 0  # the spike and hoax items sent now


def ensure_setup(tenant: Tenant) -> tuple[int, int]:
    """The demo queries, tracked terms, low-credibility domains, default alert rules and owned
    account; returns (queries, terms) created now."""
    topic = topic_of(tenant)
    queries = 0
    for name, (text, languages) in QUERIES[topic].items():
        parse(text)  # a typo here should fail loudly, not match nothing
        _, created = MonitoredQuery.objects.get_or_create(
            tenant=tenant, name=name, defaults={"query": text, "languages": languages}
        )
        queries += created
    terms = 0
    for text, kind in TERMS[topic]:
        _, created = TrackedTerm.objects.get_or_create(
            tenant=tenant, text=text, defaults={"kind": kind}
        )
        terms += created
    for domain in LOW_CREDIBILITY:
        LowCredibilityDomain.objects.get_or_create(tenant=tenant, domain=domain)
    ensure_default_rules(tenant=tenant)
    platform, handle = OWNED[topic]
    OwnedAccount.objects.get_or_create(tenant=tenant, platform=platform, handle=handle)
    return queries, terms


# name -> (kind, config, how it is doing: minutes since its last success, and its error).
SOURCES: dict[str, tuple[str, dict[str, Any], int, str]] = {
    "Crawler (ingest API)": (SourceKind.API, {}, 3, ""),
    "Media monitoring webhook": (SourceKind.WEBHOOK, {}, 12, ""),
    # Failing: a feed that times out. Its next poll is a month away (moved along with the
    # demo), so the demo never reaches out to the network.
    "Portal berita (RSS)": (
        SourceKind.RSS,
        {"url": "https://news.example/rss/brand.xml"},
        2 * 24 * 60,
        "timed out after 10 s",
    ),
}
API_SOURCE = "Crawler (ingest API)"


def ensure_sources(tenant: Tenant, now: datetime | None = None) -> dict[str, Source]:
    """The demo sources: an ingest API crawler and a webhook that work, an RSS feed failing."""
    now = now or timezone.now()
    found = {}
    for name, (kind, config, minutes_ago, error) in SOURCES.items():
        failing = bool(error)
        found[name], _ = Source.objects.get_or_create(
            tenant=tenant,
            name=name,
            defaults={
                "kind": kind,
                "config": config,
                "status": SourceStatus.FAILING if failing else SourceStatus.ACTIVE,
                "last_success_at": now - timedelta(minutes=minutes_ago),
                "last_error": error,
                "last_error_at": now - timedelta(minutes=20) if failing else None,
                "consecutive_failures": 6 if failing else 0,
                "next_poll_at": now + timedelta(days=30) if kind == SourceKind.RSS else None,
            },
        )
    return found


def shifted_fields() -> list[tuple[type[models.Model], list[str], bool]]:
    """(model, its date-time columns, whether one of them is in a unique key) for every tenant
    model except ``NOT_SHIFTED``."""
    found = []
    for model in tenant_models():
        if model._meta.label in NOT_SHIFTED:
            continue
        names = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.DateTimeField) and not isinstance(f, models.GeneratedField)
        ]
        if not names:
            continue
        unique = any(
            set(names) & set(constraint.fields)
            for constraint in model._meta.constraints
            if isinstance(constraint, models.UniqueConstraint)
        )
        found.append((model, names, unique))
    return found


@transaction.atomic
def shift_to_now(tenant: Tenant, now: datetime | None = None) -> timedelta:
    """Move every time of the tenant's rows forward by the whole hours its newest mention lags
    behind ``now``; returns the shift (zero when the newest mention is under an hour old)."""
    now = now or timezone.now()
    newest = Mention.objects.for_tenant(tenant).aggregate(newest=Max("published_at"))["newest"]
    if newest is None or now - newest < timedelta(hours=1):
        return timedelta(0)
    shift = timedelta(hours=(now - newest) // timedelta(hours=1))
    for model, names, unique in shifted_fields():
        rows = model._base_manager.filter(tenant=tenant)
        if unique:
            # One UPDATE checks each unique key row by row: moving every row far away first
            # means no row lands on a key another row still holds.
            rows.update(**{name: F(name) + FAR for name in names})
            rows.update(**{name: F(name) - FAR + shift for name in names})
        else:
            rows.update(**{name: F(name) + shift for name in names})
    return shift


def demo_items(tenant: Tenant, count: int) -> list[dict[str, Any]]:
    from monitoring.demodata import generate  # the same generator the benchmarks use

    topic = topic_of(tenant)
    return generate(count, seed=SEED, run_id=f"{RUN_ID}-{topic}", brand=topic, days=SPAN_DAYS)


def seed_mentions(tenant: Tenant, count: int = COUNT, story: bool = False) -> Seeded:
    """The demo for one tenant: queries, terms and sources; what is stored moved up to now
    (``shift_to_now``); then ``count`` mentions not yet stored sent through the pipeline.
    Returns what was done; the batches are processed by the task cluster."""
    queries, terms = ensure_setup(tenant)
    sources = ensure_sources(tenant)
    shift = shift_to_now(tenant)
    items = demo_items(tenant, count)
    stored = set(
        Mention.objects.for_tenant(tenant)
        .filter(external_id__in=[item["external_id"] for item in items])
        .values_list("platform", "external_id")
    )
    fresh = [item for item in items if (item["platform"], item["external_id"]) not in stored]
    # Oldest first, as a crawler backfills: the early-warning layer then sees each copy
    # cluster's first post before its later copies (clusters chained in published order).
    fresh.sort(key=lambda item: datetime.fromisoformat(item["published_at"]))
    told = []
    if story:
        stored_story = stored_ids(tenant)
        told = [item for item in story_items(tenant) if item["external_id"] not in stored_story]
        prime_series(tenant, fresh)
    batches = [
        services.accept_items(
            tenant=tenant, objects=fresh[i : i + SEND_SIZE], source=sources[API_SOURCE]
        )
        for i in range(0, len(fresh), SEND_SIZE)
    ]
    if told:  # last, in one chunk: the spike's mentions are judged together
        batches.append(
            services.accept_items(tenant=tenant, objects=told, source=sources[API_SOURCE])
        )
    return Seeded(queries, terms, len(fresh), len(items) - len(fresh), batches, shift, len(told))


def stored_ids(tenant: Tenant) -> set[str]:
    prefix = f"{RUN_ID}-{topic_of(tenant)}-"
    return set(
        Mention.objects.for_tenant(tenant)
        .filter(external_id__startswith=prefix + "spike-")
        .values_list("external_id", flat=True)
    ) | set(
        Mention.objects.for_tenant(tenant)
        .filter(external_id__startswith=prefix + "hoax-")
        .values_list("external_id", flat=True)
    )


def story_items(tenant: Tenant, now: datetime | None = None) -> list[dict[str, Any]]:
    """The spike (``SPIKE_COUNT`` complaints in the last minute) and the hoax campaign
    (eight edited copies by eight accounts in the last hour), relative to ``now``."""
    now = now or timezone.now()
    topic = topic_of(tenant)
    items: list[dict[str, Any]] = []
    for n in range(SPIKE_COUNT):
        forms = SPIKE_TEXT[topic]
        text = forms[n % len(forms)].format(
            place=SPIKE_PLACES[(n // len(forms)) % len(SPIKE_PLACES)], n=10 + n % 50
        )
        items.append(
            _story_item(f"{RUN_ID}-{topic}-spike-{n}", text, f"warga{topic}{n}", now, n // 2)
        )
    base = HOAX_TEXT[topic]
    for n, edit in enumerate(HOAX_EDITS):
        text = edit.format(text=base, upper=base.upper(), n=n)
        age = 55 * 60 - n * 7 * 60  # 55 minutes ago, then every 7 minutes
        items.append(_story_item(f"{RUN_ID}-{topic}-hoax-{n}", text, f"info_{topic}_{n}", now, age))
    return items


def _story_item(
    external_id: str, text: str, handle: str, now: datetime, age_s: int
) -> dict[str, Any]:
    return {
        "platform": "x",
        "external_id": external_id,
        "url": f"https://x.com/{handle}/status/{external_id}",
        "text": text,
        "lang": "id",
        "published_at": (now - timedelta(seconds=age_s)).isoformat(timespec="seconds"),
        "author": {"handle": handle, "name": handle, "followers": 150 + 37 * len(handle)},
        "engagement": {"likes": 3, "shares": 1, "replies": 1, "views": 80},
    }


def prime_series(tenant: Tenant, fresh: list[dict[str, Any]], now: datetime | None = None) -> None:
    """Start the demo's series from the whole demo history, whatever order the workers store
    its chunks in: the volume-spike state learns the stored rollups plus the items about to be
    sent, up to the bucket filling now; the other series start again from the rollups at their
    next chunk."""
    now = now or timezone.now()
    series_rules = AlertRule.objects.for_tenant(tenant).filter(kind__in=live.SERIES_KINDS)
    DetectorState.objects.for_tenant(tenant).filter(
        rule_id__in=list(series_rules.values_list("id", flat=True))
    ).delete()
    current = live.floor_bucket(now - SPIKE_SPAN)  # the spike's buckets are judged live
    counts: dict[datetime, int] = dict(
        MetricBucket.objects.for_tenant(tenant)
        .filter(query_id=0, bucket__gte=now - live.BOOTSTRAP, bucket__lt=current)
        .values_list("bucket", "mentions")
    )
    for item in fresh:
        bucket = live.floor_bucket(datetime.fromisoformat(item["published_at"]))
        if now - live.BOOTSTRAP <= bucket < current:
            counts[bucket] = counts.get(bucket, 0) + 1
    rules = AlertRule.objects.for_tenant(tenant).filter(
        kind=AlertKind.SPIKE, query__isnull=True, enabled=True
    )
    for rule in rules:
        detector = SpikeDetector(live.series_config(rule), live.BUCKET, series="q0")
        for bucket in sorted(counts):
            detector.observe(bucket, float(counts[bucket]), judge=False)
        DetectorState.objects.create(
            tenant=tenant,
            rule=rule,
            series="q0",
            state={"detector": detector.to_dict(), "pending": {}},
            due_at=current + live.BUCKET,
        )
