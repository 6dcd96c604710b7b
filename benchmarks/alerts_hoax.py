"""Hoax spread benchmark: generated copy-paste campaigns mixed into unrelated real posts.

Background: unlabelled texts of the shared datasets (``SIGAP_DATASETS`` or ``../shared/
datasets``: SmSA, Apache-2.0, and TweetEval, whose tweets must not be redistributed), read at
run time only, never copied into the repository; each text posted once by a random author at a
random time over three days (texts whose claim key repeats another's are dropped, so the
background holds no copies of its own). Without the datasets, a generated background is used
(and the figures say so).

Campaigns: a claim (a held-out real text of 12+ words, or one of a few written hoaxes) copied
by 4-25 distinct authors over 1-12 hours, every copy edited the campaign's way:

* ``case``: upper, lower, title or random capitals;
* ``emoji``: 1-4 emoji inserted;
* ``hashtags``: 1-4 hashtags added before or after;
* ``links``: a link appended (a random domain or a shortener);
* ``slang``: formal words swapped for slang spellings (``tidak`` -> ``gak``), letters repeated;
* ``swapped-words``: 1-3 of: a word replaced, two neighbours swapped, a word dropped;
* ``mixed``: two to four of the above.

Each campaign also gets 3-8 **same-topic posts** by other authors that are not copies: the
claim's words with about half of them kept (in order) and the rest taken from an unrelated
text, the way people discuss a rumour in their own words. They must stay out of its cluster.

Every post goes through ``HoaxSpread`` (medium) in time order. For each reported cluster (3+
distinct authors) its campaign is the one most of its members belong to. **Precision**: the
share of reported-cluster members that belong to their cluster's campaign (background members
and other campaigns' count against it). **Recall**: the share of campaign posts that end in a
reported cluster of their own campaign. Both per edit type. Targets: precision >= 0.9, recall
>= 0.8. The last line is one JSON object.

``--live-bands BxR`` (e.g. ``16x3``, the live rule's ``HOAX_BANDS`` x ``HOAX_ROWS``) judges
the same posts by the live rule's matching instead (``monitoring.early_warning.live``, modelled
in memory here): each post meets only the latest earlier post of each of its B band hashes of R
rows, joins the cluster of the most similar one that reaches the threshold (a clustered one
first), and the post becomes its bands' latest; ``candidates_per_post`` is how many earlier
posts a post met (each one a signature the live rule reads). It is how a banding was chosen.

    python benchmarks/alerts_hoax.py [--campaigns 14] [--background 15000] [--seed 5]
        [--sensitivity low|medium|high] [--live-bands BxR]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from monitoring.alerting.hoax import (
    HoaxConfig,
    HoaxSpread,
    band_hashes,
    claim_tokens,
    hash_values,
)
from monitoring.alerting.mentions import MentionEvent

EDITS = ("case", "emoji", "hashtags", "links", "slang", "swapped-words", "mixed")
START = datetime(2026, 3, 2, tzinfo=UTC)
SPAN = timedelta(days=3)
EMOJI = ["😱", "🔥", "‼️", "😡", "🙏", "👇", "⚠️", "💯", "😭", "🤬", "📢", "✅"]
HASHTAGS = [
    "#viral",
    "#sebarkan",
    "#faktanya",
    "#waspada",
    "#infopenting",
    "#share",
    "#RIP",
    "#boikot",
    "#breaking",
    "#trending",
    "#KopiSenja",
    "#BankLestari",
]
DOMAINS = [
    "bit.ly",
    "s.id",
    "tinyurl.com",
    "beritaheboh.example",
    "infoterkini.example",
    "faktaviral.example",
    "news24.example",
]
WRITTEN_CLAIMS = [
    "Kopi Senja ternyata pakai biji kopi kadaluarsa dari gudang yang sudah ditutup BPOM, tiga "
    "orang masuk rumah sakit di Bandung setelah minum es kopi susu mereka kemarin sore",
    "Bank Lestari akan menutup semua rekening tabungan yang tidak diperbarui datanya sebelum hari "
    "Jumat, segera login lewat tautan resmi ini supaya saldo kalian tidak hangus",
    "Beredar kabar minyak goreng curah di pasar induk dicampur plastik agar lebih bening, sudah "
    "banyak anak kecil yang sakit perut dan muntah setelah makan gorengan",
    "Pemerintah kota akan mematikan listrik di seluruh wilayah selatan selama tiga hari mulai "
    "besok pagi karena gardu utama meledak, warga diminta menyiapkan lilin dan air bersih",
    "Vaksin booster yang dibagikan di puskesmas minggu ini ternyata sudah lewat masa simpan dan "
    "menyebabkan demam tinggi pada lansia, jangan mau disuntik sebelum cek nomor batch",
    "Aplikasi ojek online itu diam-diam menjual data lokasi penumpang ke pinjol ilegal, makanya "
    "banyak yang tiba-tiba ditagih padahal tidak pernah pinjam sama sekali",
    "Breaking: the factory fire downtown was caused by the new battery supplier cutting corners, "
    "workers say management knew about the faulty wiring for months and did nothing",
    "Warning to everyone, the free wifi at the airport is stealing banking passwords, my cousin "
    "lost all his savings an hour after connecting, share this before they delete it",
]
SYNONYMS = {
    "banyak": "beberapa",
    "tidak": "nggak",
    "sudah": "telah",
    "karena": "soalnya",
    "kemarin": "semalam",
    "orang": "warga",
    "segera": "cepat",
    "semua": "seluruh",
    "the": "this",
    "and": "&",
    "before": "till",
    "everyone": "all",
    "ternyata": "rupanya",
    "setelah": "sesudah",
    "akan": "bakal",
    "jangan": "jgn",
    "sangat": "amat",
    "bagus": "baik",
    "makanan": "masakan",
    "enak": "lezat",
    "tempat": "lokasi",
    "harga": "tarif",
}


def load_background(rng: random.Random) -> tuple[list[str], str]:
    try:
        from monitoring.scoring.datasets import load_smsa, load_tweeteval

        texts = load_smsa("train")[0] + load_tweeteval("train")[0]
        source = "shared datasets (SmSA train, TweetEval train), unlabelled"
    except OSError:
        texts, source = generated_background(rng, 20000), "generated (datasets not found)"
    return [t for t in texts if t.strip()], source


def generated_background(rng: random.Random, count: int) -> list[str]:
    words = [
        "saya",
        "kamu",
        "dia",
        "kami",
        "makan",
        "minum",
        "kopi",
        "bank",
        "aplikasi",
        "layanan",
        "cepat",
        "lambat",
        "bagus",
        "buruk",
        "hari",
        "ini",
        "besok",
        "kemarin",
        "antri",
        "lama",
        "harga",
        "mahal",
        "murah",
        "promo",
        "diskon",
        "kasir",
        "toko",
        "cabang",
        "kota",
        "jalan",
        "macet",
        "hujan",
        "panas",
        "senang",
        "kecewa",
        "mantap",
        "parah",
        "banget",
        "sekali",
        "lagi",
    ]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(4, 30))) for _ in range(count)]


def invert_slang() -> dict[str, list[str]]:
    from monitoring.alerting.hoax import _res

    res = _res()
    out: dict[str, list[str]] = defaultdict(list)
    for slang, formal in res.id_slang.items():
        if " " not in formal and slang.isalpha() and slang != formal:
            out[formal].append(slang)
    return out


def edit(text: str, kind: str, rng: random.Random, slang: dict[str, list[str]]) -> str:
    words = text.split()
    if kind == "case":
        style = rng.choice(["upper", "lower", "title", "random"])
        if style == "upper":
            return text.upper()
        if style == "lower":
            return text.lower()
        if style == "title":
            return text.title()
        return " ".join(w.upper() if rng.random() < 0.3 else w for w in words)
    if kind == "emoji":
        for _ in range(rng.randint(1, 4)):
            words.insert(rng.randint(0, len(words)), rng.choice(EMOJI))
        return " ".join(words)
    if kind == "hashtags":
        tags = rng.sample(HASHTAGS, rng.randint(1, 4))
        return " ".join(tags + words) if rng.random() < 0.3 else " ".join(words + tags)
    if kind == "links":
        domain = rng.choice(DOMAINS)
        return f"{text} https://{domain}/{rng.randrange(16**6):06x}"
    if kind == "slang":
        out = []
        for w in words:
            options = slang.get(w.lower())
            if options and rng.random() < 0.7:
                out.append(rng.choice(options))
            elif len(w) > 3 and w.isalpha() and rng.random() < 0.1:
                out.append(w + w[-1] * rng.randint(2, 4))
            else:
                out.append(w)
        return " ".join(out)
    if kind == "swapped-words":
        for _ in range(rng.randint(1, 3)):
            if len(words) < 4:
                break
            op = rng.choice(["replace", "swap", "drop"])
            i = rng.randrange(len(words) - 1)
            if op == "replace":
                words[i] = SYNONYMS.get(words[i].lower(), rng.choice(["itu", "ini", "juga", "so"]))
            elif op == "swap":
                words[i], words[i + 1] = words[i + 1], words[i]
            else:
                del words[i]
        return " ".join(words)
    # mixed
    result = text
    for part in rng.sample(EDITS[:-1], rng.randint(2, 4)):
        result = edit(result, part, rng, slang)
    return result


def same_topic(claim: str, rng: random.Random, background: list[str]) -> str:
    """A post on the claim's topic in other words: about half the claim's words, in order,
    interleaved with the words of an unrelated text."""
    kept = [w for w in claim.split() if rng.random() < rng.uniform(0.4, 0.6)]
    filler = rng.choice(background).split()
    out: list[str] = []
    while kept or filler:
        source = kept if (kept and (not filler or rng.random() < 0.5)) else filler
        out.append(source.pop(0))
    return " ".join(out)


class _Post:
    def __init__(self, event: MentionEvent, values: np.ndarray) -> None:
        self.event, self.values = event, values
        self.external_id = event.external_id
        self.cluster: _Cluster | None = None


class _Cluster:
    def __init__(self) -> None:
        self.members: list[_Post] = []


class LiveBands:
    """The live rule's matching over a band table of the latest post per band hash (see the
    module docstring), with ``HoaxSpread``'s ``observe`` and ``reported_clusters``."""

    def __init__(self, config: HoaxConfig, bands: int, rows: int) -> None:
        self.threshold, self.window = config.jaccard, config.window
        self.authors_needed = config.authors_needed
        self.bands, self.rows = bands, rows
        self.latest: dict[int, _Post] = {}
        self.clusters: list[_Cluster] = []
        self.signed = self.candidates = 0

    def observe(self, event: MentionEvent) -> None:
        values = hash_values([event.text])[0]
        if values is None:
            return None
        self.signed += 1
        hashes = band_hashes(values[None].astype(np.uint64), self.bands, self.rows)[0].tolist()
        met = {self.latest[h] for h in hashes if h in self.latest}
        post = _Post(event, values)
        for value in hashes:
            self.latest[value] = post
        best: tuple[tuple[bool, float], _Post] | None = None
        for other in met:
            if other.event.published_at < event.published_at - self.window:
                continue
            self.candidates += 1
            similarity = float(np.count_nonzero(other.values == values)) / len(values)
            key = (other.cluster is not None, similarity)
            if similarity >= self.threshold and (best is None or key > best[0]):
                best = (key, other)
        if best is not None:
            other = best[1]
            if other.cluster is None:
                other.cluster = _Cluster()
                other.cluster.members.append(other)
                self.clusters.append(other.cluster)
            post.cluster = other.cluster
            other.cluster.members.append(post)
        return None

    def reported_clusters(self) -> list[_Cluster]:
        return [
            c
            for c in self.clusters
            if len({m.event.author for m in c.members}) >= self.authors_needed
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--campaigns", type=int, default=14, help="campaigns per edit type")
    parser.add_argument("--background", type=int, default=15000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--sensitivity", default="medium", choices=["low", "medium", "high"])
    parser.add_argument("--live-bands", default=None, help="BxR: the live rule's matching")
    args = parser.parse_args()
    banding = None
    if args.live_bands:
        try:
            banding = tuple(int(x) for x in args.live_bands.lower().split("x"))
            if len(banding) != 2 or min(banding) < 1 or banding[0] * banding[1] > 128:
                raise ValueError
        except ValueError:
            parser.error("--live-bands: BxR with B*R <= 128 (NUM_PERM), e.g. 16x3")
    started = time.perf_counter()
    rng = random.Random(args.seed)
    pool, source = load_background(rng)
    rng.shuffle(pool)
    slang = invert_slang()
    # claims: held-out real texts of 12+ words, plus the written hoaxes
    claims, rest = [], []
    for text in pool:
        if len(claims) < len(EDITS) * args.campaigns and len(claim_tokens(text)) >= 12:
            claims.append(text)
        else:
            rest.append(text)
    claims[: len(WRITTEN_CLAIMS)] = WRITTEN_CLAIMS
    # background: one post per distinct claim key, none of them a claim's
    seen = {" ".join(claim_tokens(c)) for c in claims}
    background = []
    for text in rest:
        key = " ".join(claim_tokens(text))
        if key in seen:
            continue
        seen.add(key)
        background.append(text)
        if len(background) >= args.background:
            break
    posts: list[tuple[datetime, str, str, int]] = []  # (time, author, text, campaign or -1)
    for text in background:
        at = START + SPAN * rng.random()
        posts.append((at, f"user{rng.randrange(10**7)}", text, -1))
    edits_of = []
    for index, claim in enumerate(claims):
        kind = EDITS[index % len(EDITS)]
        edits_of.append(kind)
        onset = START + (SPAN - timedelta(hours=12)) * rng.random()
        spread = timedelta(hours=rng.uniform(1, 12))
        copies = rng.randint(4, 25)
        for copy in range(copies):
            at = onset + spread * (copy / copies) * rng.uniform(0.8, 1.0)
            text = claim if copy == 0 else edit(claim, kind, rng, slang)
            posts.append((at, f"c{index}_{copy}", text, index))
        for other in range(rng.randint(3, 8)):
            at = onset + spread * rng.random()
            posts.append((at, f"t{index}_{other}", same_topic(claim, rng, background), -2))
    posts.sort(key=lambda p: p[0])
    config = HoaxConfig(sensitivity=args.sensitivity)
    rule: HoaxSpread | LiveBands = (
        HoaxSpread(config) if banding is None else LiveBands(config, *banding)
    )
    campaign_of: dict[str, int] = {}
    alerts = 0
    for number, (at, author, text, campaign) in enumerate(posts):
        external_id = f"p{number}"
        campaign_of[external_id] = campaign
        event = MentionEvent("x", external_id, at, text, author=author)
        if rule.observe(event) is not None:
            alerts += 1
    # score
    per_edit: dict[str, Counter[str]] = {kind: Counter() for kind in EDITS}
    total = Counter()
    for index, kind in enumerate(edits_of):
        n = sum(1 for p in posts if p[3] == index)
        per_edit[kind]["posts"] += n
        total["posts"] += n
    background_clusters = 0
    for cluster in rule.reported_clusters():
        members = [campaign_of[m.external_id] for m in cluster.members]
        majority, hits = Counter(members).most_common(1)[0]
        if majority < 0:
            background_clusters += int(majority == -1)
            ranked = Counter(members).most_common()
            majority, hits = next(((c, n) for c, n in ranked if c >= 0), (-1, 0))
        kind = edits_of[majority] if majority >= 0 else "background"
        bucket = per_edit.setdefault(kind, Counter())
        bucket["members"] += len(members)
        bucket["right"] += hits
        bucket["recalled"] += hits
        total["members"] += len(members)
        total["right"] += hits
        total["recalled"] += hits
    result: dict[str, object] = {
        "background": len(background),
        "background_source": source,
        "campaigns": len(claims),
        "campaign_posts": total["posts"],
        "reported_clusters": len(rule.reported_clusters()),
        "background_clusters": background_clusters,
        "same_topic_posts": sum(1 for p in posts if p[3] == -2),
        "same_topic_clustered": sum(
            1
            for c in rule.reported_clusters()
            for m in c.members
            if campaign_of[m.external_id] == -2
        ),
        "alerts": alerts,
        "matching": f"live bands {banding[0]}x{banding[1]}" if banding else "offline",
    }
    if isinstance(rule, LiveBands):
        result["candidates_per_post"] = round(rule.candidates / max(rule.signed, 1), 3)
    rows = {}
    for kind in (*EDITS, "background"):
        c = per_edit.get(kind)
        if not c:
            continue
        rows[kind] = {
            "precision": round(c["right"] / c["members"], 3) if c["members"] else None,
            "recall": round(c["recalled"] / c["posts"], 3) if c["posts"] else None,
        }
        print(f"{kind:>14}: {json.dumps(rows[kind])}", file=sys.stderr)
    result["per_edit"] = rows
    result["precision"] = round(total["right"] / total["members"], 3) if total["members"] else None
    result["recall"] = round(total["recalled"] / total["posts"], 3) if total["posts"] else None
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
