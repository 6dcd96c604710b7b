"""Demo mentions: a few monitored queries and tracked terms for a demo tenant, and a few thousand
realistic mentions sent through the real pipeline (``services.accept_items``: durable batch,
one django-q2 task per chunk, processed by the running cluster).

Running it again changes nothing: queries and terms are matched by name, the mentions keep the
same external ids (``demo-<n>``), ids already stored are not sent again, and a resent item could
not make a second row anyway (unique on tenant, platform and external id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitoring import services
from monitoring.choices import TermKind
from monitoring.models import (
    IngestBatch,
    LowCredibilityDomain,
    Mention,
    MonitoredQuery,
    TrackedTerm,
)
from monitoring.querylang import parse
from tenants.models import Tenant

RUN_ID = "demo"
SEED = 2026
SEND_SIZE = 1000  # items per accept_items call, as a client would send them

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


def ensure_setup(tenant: Tenant) -> tuple[int, int]:
    """The demo queries, tracked terms and low-credibility domains; returns (queries, terms)
    created now."""
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
    return queries, terms


def demo_items(tenant: Tenant, count: int) -> list[dict[str, Any]]:
    from monitoring.demodata import generate  # the same generator the benchmarks use

    return generate(count, seed=SEED, run_id=f"{RUN_ID}-{topic_of(tenant)}", brand=topic_of(tenant))


def seed_mentions(tenant: Tenant, count: int = 3000) -> Seeded:
    """Create the demo queries and terms, then send ``count`` mentions not yet stored through
    the pipeline. Returns what was done; the batches are processed by the task cluster."""
    queries, terms = ensure_setup(tenant)
    items = demo_items(tenant, count)
    stored = set(
        Mention.objects.for_tenant(tenant)
        .filter(external_id__in=[item["external_id"] for item in items])
        .values_list("platform", "external_id")
    )
    fresh = [item for item in items if (item["platform"], item["external_id"]) not in stored]
    batches = [
        services.accept_items(tenant=tenant, objects=fresh[i : i + SEND_SIZE])
        for i in range(0, len(fresh), SEND_SIZE)
    ]
    return Seeded(queries, terms, len(fresh), len(items) - len(fresh), batches)
