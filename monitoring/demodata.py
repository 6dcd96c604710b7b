"""Realistic social-media mentions for benchmarks and the demo.

Indonesian and English posts about a coffee chain (Kopi Senja) and a bank (Bank Lestari), in
the ingest item format (``monitoring.ingest``): slang (gak, bgt, mantul, anjir), emoji, hashtags,
@handles and links; mostly ordinary chatter and complaints, some praise, and a small share of
provocative, hoax, cyber-attack and unexpected-event phrasing. Platforms x, instagram, tiktok,
facebook and news; authors with a long-tailed follower distribution (a few accounts with
hundreds of thousands of followers, most with a few hundred), engagement that grows with reach,
and ``published_at`` spread over the last days (recent hours busier).

Deterministic for a given ``seed`` (texts, authors, numbers; only ``published_at`` follows
``now``). ``external_id`` is ``<run_id>-<n>``, so two runs with different run ids never collide
and the same run id gives the same ids again.

    from monitoring.demodata import generate
    items = generate(1000, seed=7, run_id="bench-1a2b", brand="kopi")
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

WIB = timezone(timedelta(hours=7))
BRANDS = ("kopi", "bank", "mixed")

# --- vocabulary ---------------------------------------------------------------------------

_SUBJECT = {
    "kopi": {
        "name": ["Kopi Senja", "kopi senja", "KOPI SENJA", "Kopsen", "@kopisenja"],
        "handle": "@kopisenja",
        "tags": ["#kopisenja", "#ngopi", "#kopisenjaid", "#kopikekinian", "#coffeetime"],
        "bad_tag": "#boikotkopisenja",
        "thing": ["es kopi susu", "kopi gula aren", "latte", "americano", "croissant", "menu baru"],
        "place": [
            "outlet Sudirman",
            "cabang Dago",
            "gerai Tunjungan",
            "outlet Kemang",
            "drive thru",
        ],
        "domain": "kopisenja.co.id",
    },
    "bank": {
        "name": ["Bank Lestari", "bank lestari", "BANK LESTARI", "Lestari Mobile", "@banklestari"],
        "handle": "@banklestari",
        "tags": ["#banklestari", "#lestarimobile", "#perbankan", "#nabung", "#mbanking"],
        "bad_tag": "#boikotbanklestari",
        "thing": ["aplikasi mobile", "kartu debit", "transfer", "kartu kredit", "QRIS", "tabungan"],
        "place": [
            "kantor cabang Thamrin",
            "ATM Depok",
            "cabang Medan",
            "call center",
            "KCP Bekasi",
        ],
        "domain": "banklestari.co.id",
    },
}

# Each template: (weight, language, text). Slots: {brand} {handle} {tag} {bad} {thing} {place}
# {emoji} {user} {url} {city} {n}.
_TEMPLATES: list[tuple[int, str, str]] = [
    # ordinary / neutral chatter
    (9, "id", "lagi di {place} nih, nyobain {thing} dari {brand} {tag}"),
    (7, "id", "ada yg tau {brand} buka sampe jam berapa? mau ngerjain tugas {emoji}"),
    (6, "id", "{brand} {place} hari ini rame bgt, antrian {n} orang"),
    (5, "id", "promo {thing} {brand} minggu ini apa aja ya? {tag}"),
    (4, "id", "{user} kamu udah coba {thing} {brand} belum?"),
    (4, "id", "Info: {brand} buka cabang baru di {city} mulai pekan depan {url}"),
    (3, "en", "anyone tried the new {thing} at {brand}? {tag}"),
    (3, "en", "working from {brand} {place} today {emoji}"),
    # praise
    (7, "id", "{thing} {brand} mantul parah {emoji}{emoji} {tag}"),
    (5, "id", "suka bgt sama pelayanan {brand} {place}, ramah dan cepet {emoji}"),
    (4, "id", "makasih {handle} udah bantu, masalahnya beres dalam 5 menit {emoji}"),
    (3, "id", "anjir {thing} {brand} enak bgt, gak nyesel {emoji} {tag}"),
    (3, "en", "love the {thing} from {brand}, best in {city} {emoji}"),
    (2, "en", "great service at {brand} {place} today, thanks {handle}!"),
    # complaints
    (7, "id", "pelayanan {brand} {place} lambat bgt, nunggu {n} menit gak dipanggil2 {emoji}"),
    (6, "id", "kecewa sama {brand}, {thing} gak sesuai pesanan. layanan buruk {tag}"),
    (4, "id", "antri lama di {place} {brand}, kasirnya cuma satu. lama banget sumpah"),
    (4, "id", "{handle} tolong dong {thing} saya bermasalah dari kemarin, CS gak bales"),
    (3, "id", "harga {thing} {brand} naik lagi, makin mahal aja {emoji}"),
    (3, "en", "really disappointed with {brand}, slow service and my order was wrong {emoji}"),
    (2, "en", "{handle} your {thing} has been broken since yesterday, fix it please"),
    # boycott
    (4, "id", "ayo boikot {brand}! udah gak peduli sama pelanggan {bad}"),
    (2, "id", "{bad} sampai mereka minta maaf. sebarkan!"),
    (1, "en", "boycott {brand} until they apologise {bad}"),
    # provocation
    (3, "id", "goblok bgt manajemen {brand}, pelanggan dianggap sapi perah {bad}"),
    (2, "id", "dasar {brand} tolol, kerjanya cuma nipu orang. bakar aja outletnya!"),
    (1, "en", "{brand} staff are idiots, worst company ever {emoji}"),
    # hoax
    (2, "id", "BREAKING: {brand} bangkrut dan tutup semua cabang!! sebarkan! {url}"),
    (2, "id", "katanya {thing} {brand} pakai bahan kadaluarsa, viralkan sebelum dihapus {url}"),
    (1, "en", "SHARE BEFORE DELETED: {brand} is shutting down, they don't want you to know {url}"),
    # cyber attack
    (2, "id", "akun {brand} diretas? data pelanggan bocor katanya {emoji} {tag}"),
    (2, "id", "hati2 ada link phishing atas nama {brand}, jangan diklik {url}"),
    (1, "en", "{brand} got hacked, customer data leaked online"),
    # unexpected event
    (2, "id", "temen gue keracunan abis minum {thing} dari {brand} {place}, sekarang di RS"),
    (1, "id", "kebakaran di {place} {brand} tadi sore, semoga gak ada korban {emoji}"),
    (1, "en", "fire at {brand} {place} this afternoon, everyone evacuated"),
]
_NEWS = [
    "{brand} Catat Kenaikan Pendapatan {n} Persen pada Kuartal Ini",
    "Pelanggan Keluhkan Layanan {brand} yang Lambat di {city}",
    "{brand} Bantah Kabar Kebocoran Data Nasabah",
    "Polisi Selidiki Dugaan Keracunan Usai Konsumsi Produk {brand} di {city}",
    "{brand} Buka {n} Gerai Baru Tahun Ini",
    "Warganet Serukan Boikot {brand}, Ini Tanggapan Perusahaan",
]
_EMOJI = ["😍", "🔥", "☕", "😭", "😡", "🙏", "👍", "💸", "🤬", "😂", "✨", "🥲"]
_CITIES = ["Jakarta", "Bandung", "Surabaya", "Medan", "Makassar", "Yogyakarta", "Bekasi", "Depok"]
_FIRST = [
    "budi",
    "siti",
    "andi",
    "dewi",
    "rizky",
    "putri",
    "agus",
    "nadia",
    "fajar",
    "ayu",
    "dimas",
    "intan",
    "yoga",
    "sari",
    "bayu",
    "rina",
]
_LAST = [
    "santoso",
    "wijaya",
    "pratama",
    "saputra",
    "nugroho",
    "hidayat",
    "kusuma",
    "permata",
    "setiawan",
    "utami",
]
_OUTLETS = [("detikcom", "detikcom", 18_000_000), ("kompascom", "Kompas.com", 9_500_000),
            ("cnnindonesia", "CNN Indonesia", 6_000_000), ("tempodotco", "Tempo", 3_400_000),
            ("kumparan", "kumparan", 2_100_000), ("tribunnews", "Tribunnews", 4_800_000),
            ("liputan6", "Liputan6", 2_900_000), ("beritasatu", "BeritaSatu", 900_000)]  # fmt: skip
_PLATFORMS = [("x", 40), ("instagram", 22), ("tiktok", 18), ("facebook", 14), ("news", 6)]
_URL = {
    "x": "https://x.com/{handle}/status/{id}",
    "instagram": "https://www.instagram.com/p/{id}/",
    "tiktok": "https://www.tiktok.com/@{handle}/video/{id}",
    "facebook": "https://www.facebook.com/{handle}/posts/{id}",
    "news": "https://www.{handle}.com/berita/{id}",
}
_LINKS = ["https://bit.ly/{code}", "https://beritaviral.blogspot.com/{code}", "https://s.id/{code}",
          "https://{domain}/promo/{code}"]  # fmt: skip


def _cumulative(weights: list[int]) -> list[int]:
    total, out = 0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


_TEMPLATE_CUM = _cumulative([w for w, _, _ in _TEMPLATES])
_PLATFORM_CUM = _cumulative([w for _, w in _PLATFORMS])


class _Author:
    __slots__ = ("followers", "handle", "name", "verified")

    def __init__(self, handle: str, name: str, followers: int, verified: bool) -> None:
        self.handle, self.name, self.followers, self.verified = handle, name, followers, verified


def make_authors(rng: random.Random, count: int) -> list[_Author]:
    """Accounts with Pareto-tailed followers: median a few hundred, a few big influencers."""
    out = []
    for i in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        style = rng.randrange(4)
        handle = [f"{first}{last}", f"{first}_{i}", f"{first}.{last[:3]}{i % 97}", f"{first}{i}"][
            style
        ]
        followers = min(int(40 * rng.paretovariate(0.9)), 12_000_000)
        verified = followers > 50_000 and rng.random() < 0.6
        out.append(_Author(handle, f"{first.title()} {last.title()}", followers, verified))
    return out


def generate(
    n: int,
    *,
    seed: int = 7,
    run_id: str = "demo",
    brand: str = "mixed",
    now: datetime | None = None,
    days: float = 3.0,
    start: int = 0,
) -> list[dict[str, Any]]:
    """``n`` ingest items. ``brand``: "kopi", "bank" or "mixed"; ``start`` offsets the ids (to
    generate a long run in slices with the same ``seed``/``run_id``, pass the slice start)."""
    if brand not in BRANDS:
        raise ValueError(f"brand must be one of {BRANDS}")
    rng = random.Random(f"{seed}:{start}")
    now = (now or datetime.now(UTC)).astimezone(WIB)
    authors = make_authors(random.Random(f"{seed}:authors"), max(50, min(20_000, n // 3 + 50)))
    # Zipf-like activity: a few accounts post much more than the rest.
    activity = _cumulative([max(1, int(1000 / (rank + 1) ** 0.8)) for rank in range(len(authors))])
    items = []
    for index in range(start, start + n):
        topic = brand if brand != "mixed" else ("kopi" if rng.random() < 0.6 else "bank")
        subject = _SUBJECT[topic]
        platform = _PLATFORMS[_pick(rng, _PLATFORM_CUM)][0]
        slots = {
            "brand": rng.choice(subject["name"]),
            "handle": subject["handle"],
            "tag": rng.choice(subject["tags"]) if rng.random() < 0.6 else "",
            "bad": subject["bad_tag"],
            "thing": rng.choice(subject["thing"]),
            "place": rng.choice(subject["place"]),
            "emoji": rng.choice(_EMOJI) if rng.random() < 0.7 else "",
            "user": "@" + rng.choice(authors).handle,
            "city": rng.choice(_CITIES),
            "n": rng.randint(3, 60),
            "url": rng.choice(_LINKS).format(
                code=f"{rng.getrandbits(32):08x}", domain=subject["domain"]
            ),
        }
        author: dict[str, Any]
        if platform == "news":
            handle, name, followers = rng.choice(_OUTLETS)
            author = {"handle": handle, "name": name, "followers": followers, "verified": True}
            text = rng.choice(_NEWS).format(**slots)
            lang = "id"
        else:
            who = authors[_pick(rng, activity)]
            author = {
                "handle": who.handle,
                "name": who.name,
                "followers": who.followers,
                "verified": who.verified,
            }
            _, lang, template = _TEMPLATES[_pick(rng, _TEMPLATE_CUM)]
            text = " ".join(template.format(**slots).split())
            if rng.random() < 0.15:
                text += " " + rng.choice(subject["tags"])
        reach: int = author["followers"]
        likes = int(reach * rng.uniform(0.0005, 0.02) * rng.lognormvariate(0, 1)) + rng.randrange(4)
        shares = int(likes * rng.uniform(0.01, 0.3))
        replies = int(likes * rng.uniform(0.02, 0.2))
        views = int((likes + 1) * rng.uniform(8, 60))
        # Recent hours are busier: exponential ages, capped at ``days``.
        age_s = min(rng.expovariate(1.0 / (days * 86_400 / 3)), days * 86_400)
        published = now - timedelta(seconds=int(age_s))
        external_id = f"{run_id}-{index}"
        item: dict[str, Any] = {
            "platform": platform,
            "external_id": external_id,
            "url": _URL[platform].format(handle=author["handle"], id=external_id),
            "text": text,
            "published_at": published.isoformat(timespec="seconds"),
            "author": author,
            "engagement": {"likes": likes, "shares": shares, "replies": replies, "views": views},
        }
        if rng.random() < 0.7:  # some sources tell the language, others leave it to the scorer
            item["lang"] = lang
        items.append(item)
    return items


def _pick(rng: random.Random, cumulative: list[int]) -> int:
    """Index drawn with the weights behind ``cumulative`` (bisect on a running total)."""
    target = rng.random() * cumulative[-1]
    lo, hi = 0, len(cumulative) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] > target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def follower_percentiles(items: list[dict[str, Any]]) -> dict[str, int]:
    """p50/p90/p99/max followers: a quick look at the tail."""
    values = sorted(item["author"]["followers"] for item in items)
    pick = lambda q: values[min(len(values) - 1, math.floor(q * len(values)))]  # noqa: E731
    return {"p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99), "max": values[-1]}


if __name__ == "__main__":  # a peek: python benchmarks/data.py
    import json
    import sys

    sample = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 8, seed=7, run_id="peek")
    for row in sample[:8]:
        print(json.dumps(row, ensure_ascii=False))
    print(follower_percentiles(sample), file=sys.stderr)
