"""Benchmark: match mentions against one tenant's 500 monitored queries.

Builds 500 realistic queries (brand names, hashtags, handles, crisis vocabulary,
wildcards, phrases, proximity, exclusions) and N realistic Indonesian/English
social posts, then times ``Matcher.match`` (text preparation included) over
all mentions. Deterministic (seeded). Prints a summary and, on its last line,
one JSON object with the figures.

    python benchmarks/querylang.py [--mentions 20000] [--queries 500] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitoring.querylang import Matcher, compile_query, parse, prepare

BRAND_STEMS = [
    "kopi",
    "teh",
    "susu",
    "mie",
    "bank",
    "toko",
    "ojek",
    "pay",
    "air",
    "roti",
    "sabun",
    "motor",
    "pulsa",
    "tiket",
    "hotel",
    "klinik",
    "sepatu",
    "baju",
    "kosmetik",
    "snack",
]
BRAND_SUFFIXES = ["kita", "maju", "nusantara", "jaya", "sehat", "cepat", "prima", "indo", "ku"]
PRODUCTS = ["gula aren", "varian baru", "kartu kredit", "aplikasi", "paket data", "promo ramadan"]
CRISIS = [
    "boikot*",
    "hoaks",
    "penipuan",
    "tipu*",
    '"bocor data"',
    '"data bocor"',
    "keracunan",
    "kecewa",
    '"layanan buruk"',
    "refund",
    "viral",
    '"tarik produk"',
    "haram",
    "mogok",
    "demo",
    "somasi",
    "gugat*",
    "rusak",
    "cacat",
    "basi",
    "scam",
    "fraud",
    "recall",
    "lawsuit",
    "outage",
    "down",
    "error",
    "gangguan",
]
EXCLUDE = ["promo", "giveaway", "lowongan", '"info loker"', "diskon", "kuis", "endorse"]
CITIES = ["jakarta", "bandung", "surabaya", "medan", "makassar", "bekasi", "depok", "semarang"]
_FILLER_TEXT = (
    "yang dan di ke dari ini itu untuk dengan tidak sudah belum ada mau bisa karena jadi "
    "aku kamu kita mereka banget sih dong deh kok lagi juga aja udah gak nggak tapi terus "
    "hari ini kemarin besok pagi malam harga naik turun beli pesan antar rumah kantor jalan "
    "macet hujan panas banjir listrik padam sinyal lemot antre lama cepat murah mahal enak "
    "the and to of is for with this that just really so my your service order delivery "
    "customer app update price new today"
)
FILLER = _FILLER_TEXT.split()


def brands(rng: random.Random, n: int) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        name = rng.choice(BRAND_STEMS) + rng.choice(BRAND_SUFFIXES)
        if name not in out:
            out.append(name)
    return out


def make_queries(rng: random.Random, count: int, names: list[str]) -> list[str]:
    queries: list[str] = []
    while len(queries) < count:
        b = rng.choice(names)
        crisis = " OR ".join(rng.sample(CRISIS, rng.randint(2, 6)))
        excl = " ".join("-" + x for x in rng.sample(EXCLUDE, rng.randint(0, 3)))
        kind = rng.randrange(6)
        if kind == 0:
            q = f"({b} OR #{b} OR @{b}_id) ({crisis}) {excl}"
        elif kind == 1:
            q = f'"{b} {rng.choice(PRODUCTS)}"~3 ({crisis})'
        elif kind == 2:
            q = f"#{b} OR @{b}_id OR {b}*"
        elif kind == 3:
            q = f"{b} ({' OR '.join(rng.sample(CITIES, 3))}) {excl}"
        elif kind == 4:
            q = f'("{b} {rng.choice(PRODUCTS)}" OR #{b}) NOT ({" OR ".join(EXCLUDE[:3])})'
        else:
            q = f"({crisis}) AND (#{b} OR {b}) {excl}"
        queries.append(q)
    return queries


def make_mentions(rng: random.Random, count: int, names: list[str]) -> list[str]:
    mentions: list[str] = []
    for _ in range(count):
        words = rng.choices(FILLER, k=rng.randint(12, 45))
        roll = rng.random()
        if roll < 0.2:  # about one in five mentions names a monitored brand
            b = rng.choice(names)
            spot = rng.randrange(len(words))
            words[spot] = rng.choice([b, b.upper(), "#" + b, "@" + b + "_id", b + "nya"])
            if rng.random() < 0.5:
                words.insert(rng.randrange(len(words)), rng.choice(CRISIS).strip('"*'))
        if rng.random() < 0.3:
            words.append(rng.choice(["#viral", "#fyp", "#infojakarta", "#kulinerjakarta"]))
        if rng.random() < 0.2:
            words.append("https://example.com/p/" + str(rng.randrange(10**6)))
        if rng.random() < 0.2:
            words.insert(0, "@" + rng.choice(FILLER) + str(rng.randrange(100)))
        text = " ".join(words)
        mentions.append(text[0].upper() + text[1:] + rng.choice([".", "!", "?!", " 😡", " 🙏"]))
    return mentions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    names = brands(rng, args.queries // 4 + 1)
    texts = make_queries(rng, args.queries, names)
    mentions = make_mentions(rng, args.mentions, names)

    t0 = time.perf_counter()
    compiled = [compile_query(parse(q)) for q in texts]
    matcher = Matcher(list(enumerate(compiled)))
    t_compile = time.perf_counter() - t0

    t0 = time.perf_counter()
    for text in mentions:
        prepare(text)
    t_prepare = time.perf_counter() - t0

    matched = 0
    hits = 0
    t0 = time.perf_counter()
    for text in mentions:
        found = matcher.match(text)
        if found:
            matched += 1
            hits += len(found)
    elapsed = time.perf_counter() - t0

    sample = [prepare(t) for t in mentions[:2000]]
    avg_candidates = sum(len(matcher.candidates(d)) for d in sample) / len(sample)

    # The same work without the inverted index: every predicate on every mention.
    preds = [c.predicate for c in compiled]
    t0 = time.perf_counter()
    for doc in sample:
        [p(doc) for p in preds]
    brute_us = (time.perf_counter() - t0) / len(sample) * 1e6

    per_s = len(mentions) / elapsed
    us = elapsed / len(mentions) * 1e6
    print(f"queries:          {len(texts)} (parsed and compiled in {t_compile * 1000:.1f} ms)")
    print(f"mentions:         {len(mentions)}")
    print(f"matched mentions: {matched} ({hits} query hits)")
    print(f"candidates/mention (avg of first 2000): {avg_candidates:.2f}")
    print(f"prepare only:     {t_prepare / len(mentions) * 1e6:.1f} us/mention")
    print(f"match (incl. prepare): {us:.1f} us/mention, {per_s:,.0f} mentions/s")
    print(f"without the index (all {len(preds)} predicates, prepared text): {brute_us:.1f} us")
    result = {
        "queries": len(texts),
        "mentions": len(mentions),
        "mentions_per_s": round(per_s, 1),
        "us_per_mention": round(us, 2),
        "prepare_us_per_mention": round(t_prepare / len(mentions) * 1e6, 2),
        "avg_candidates": round(avg_candidates, 2),
        "no_index_us_per_mention": round(brute_us, 2),
        "matched_mentions": matched,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
