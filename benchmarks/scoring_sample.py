"""A fixed sample of scorer inputs and the scorer's complete outputs on it, for comparing two
versions of the scorer (``tests/scoring/test_scorer_equivalence.py``, ``docs/performance.md``).

    python benchmarks/scoring_sample.py ROOT > outputs.jsonl

``ROOT`` is a directory holding a ``monitoring/scoring`` package (this checkout, or an older
version extracted with ``git archive``). The sample: 1,500 of the benchmark's mixed
Indonesian/English posts (``monitoring.demodata``, seed 11, with their language hints, authors
and engagement), the hand-written hateful posts of ``benchmarks/data``, and edge cases
(code-mixed, negation, idioms, emoji and emoticons, links, masked and leet-spelled words,
non-Latin scripts, unusable inputs), each scored without and with tenant extensions (terms,
lexicon, low-credibility domains). Every field of every result is printed, floats exactly
(JSON keeps a float's shortest exact repr), one JSON object a line.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
EDGE_CASES = [
    "gak bagus bgt pelayanannya, kecewa parah 😡😡",
    "tidak mahal kok, enak banget mantaaap 👍",
    "This is not good at all, worst service ever!!!",
    "Pelayanan Kopi Senja lambat banget tapi the coffee is really good tbh",
    "bukan main enaknya kopi gula aren di sini #KopiSenjaJuara",
    "dasar g0bl0k lu, anj*ng kalian semua",
    "#boikotkopisenja sebarkan!! https://beritaviral.blogspot.com/2026/berita-1",
    "wkwkwk anak2 pada antri lama bgt :) :( <3",
    "JANGAN BELI DI SINI, PENIPU SEMUA KALIAN!!!",
    "Kopsen kopi kenangan bank lestari lestari mobile diretas data bocor phishing",
    "El servicio es muy malo y el café está frío",
    "这家咖啡店很好喝",
    "كوب قهوة رائع",
    "ΟΔΟΣ καφές Σ",
    "İstanbul'da kopi senja? ç'est la vie",
    "@kopisenja @banklestari www.contoh.com/x?y=1). cek https://t.co/abc",
    "",
    "   ",
    "!!!???...",
    "🔥🔥🔥",
    "mati aja lo, bunuh semua cina",
    "jangan boikot, kasihan karyawannya",
    "kurang enak, tanpa rasa, belum pernah seburuk ini",
    "good good good goood gooood bagusss bangettt",
    "a5u b4ngs4t j4nc0k $hit f*ck",
]


def sample() -> list[dict]:
    from monitoring.demodata import generate

    items = generate(1500, seed=11, run_id="equivalence", brand="mixed")
    out = [
        {
            "text": it["text"],
            "lang": it.get("lang") or None,
            "author_followers": it["author"]["followers"],
            "author_verified": it["author"]["verified"],
            "engagement": it["engagement"],
            "id": n,
        }
        for n, it in enumerate(items)
    ]
    hateful = (HERE / "data" / "provocation_hateful_id.txt").read_text(encoding="utf-8")
    texts = [x for x in hateful.splitlines() if x.strip() and not x.startswith("#")]
    texts += EDGE_CASES
    out += [{"text": t, "id": f"x{n}"} for n, t in enumerate(texts)]
    out += [{"text": None, "id": "none"}, {"text": b"\xff\xfe", "id": "bytes"}, {"text": 5}]
    return out


EXTENSIONS = {
    "terms": [
        ("Kopi Senja", "brand"),
        ("Kopsen", "brand"),
        ("kopi gula aren", "product"),
        ("Bank Lestari", "brand"),
        ("Lestari Mobile", "product"),
    ],
    "lexicon": [("negative_news", "antri lama"), ("provocation", "penipu semua", 0.7)],
    "low_credibility_domains": ["beritaviral.blogspot.com"],
}


def main() -> int:
    sys.path.insert(0, sys.argv[1])
    sys.path.insert(1, str(HERE.parent))  # monitoring.demodata, from this checkout
    from monitoring.scoring import ScoreInput, TenantExtensions, get_scorer

    scorer = get_scorer()
    inputs = [ScoreInput(**item) for item in sample()]
    for extensions in (None, TenantExtensions(**EXTENSIONS)):
        for i in range(0, len(inputs), 500):  # batches as the pipeline sends them
            for result in scorer.score_batch(inputs[i : i + 500], extensions):
                print(json.dumps(asdict(result), ensure_ascii=False, default=repr))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
