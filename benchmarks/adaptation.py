"""Adaptation benchmark: what a tenant's corrections buy, as they grow.

    OMP_NUM_THREADS=1 python benchmarks/adaptation.py [--quick] [--sizes 0,100,200,500,1000]

For each validation split in ../shared/datasets (or $SIGAP_DATASETS), SmSA valid (Indonesian)
and TweetEval val (English), the rows are shuffled with a fixed seed; the first ``--pool`` rows
play the team's corrections and the rest are held back. For each size N the first N
corrections train a layer with ``monitoring.scoring.adapt.train`` (exactly what a tenant's
classifier and ``manage.py score --adapt-from`` run: penalty by cross-validation, a head kept only
when its cross-validated accuracy reaches the base model's) and the whole scorer, adapted,
scores the held-back rows. Printed per N: accuracy and macro-F1 on the held-back rows, the gain
over N = 0 (the base models), the cross-validated figures the gate saw, and training seconds.
Provocation has no labelled data here, so only sentiment is measured. The last line of output is
one JSON object with all figures.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitoring.scoring import ScoreInput, get_scorer
from monitoring.scoring.adapt import Example, train
from monitoring.scoring.datasets import load_smsa, load_tweeteval
from monitoring.scoring.metrics import evaluate

LABELS = ["negative", "neutral", "positive"]
SEED = 18


def split(texts: list[str], labels: list[str], pool: int) -> tuple[list, list]:
    rows = list(zip(texts, labels, strict=True))
    random.Random(SEED).shuffle(rows)
    pool = min(pool, len(rows) - 250)  # SmSA valid: 1,000 corrections, 260 held back
    return rows[:pool], rows[pool:]


def run(name: str, lang: str, texts: list[str], labels: list[str], sizes: list[int], pool: int):
    scorer = get_scorer()
    corrections, held = split(texts, labels, pool)
    held_inputs = [ScoreInput(text=t, lang=lang) for t, _ in held]
    gold = [label for _, label in held]
    out = {"dataset": name, "pool": len(corrections), "held_back": len(held), "steps": []}
    base_acc = None
    for n in sizes:
        if n > len(corrections):
            continue
        examples = [Example(text=t, sentiment=label, lang=lang) for t, label in corrections[:n]]
        t0 = time.process_time()
        trained = train(scorer, examples)
        seconds = time.process_time() - t0
        adapter = trained.adapter if trained.live else None
        pred = [r.sentiment for r in scorer.score_batch(held_inputs, adapter=adapter)]
        figures = evaluate(gold, pred, LABELS)
        if base_acc is None:
            base_acc = figures["accuracy"]
        step = {
            "corrections": n,
            "accuracy": figures["accuracy"],
            "macro_f1": figures["macro_f1"],
            "gain": round(figures["accuracy"] - base_acc, 2),
            "live": trained.live,
            "cv": trained.metrics()["sentiment"],
            "train_cpu_s": round(seconds, 2),
        }
        out["steps"].append(step)
        print(
            f"{name:10s} N={n:5d} accuracy {step['accuracy']:6.2f} (gain {step['gain']:+.2f}) "
            f"macro-F1 {step['macro_f1']:6.2f} live={trained.live} "
            f"cv {step['cv']['accuracy']} vs base {step['cv']['base_accuracy']} "
            f"[{seconds:.1f}s]",
            flush=True,
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="0,100,200,500,1000")
    parser.add_argument("--pool", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="sizes 0,100,200 only")
    args = parser.parse_args()
    sizes = [0, 100, 200] if args.quick else [int(x) for x in args.sizes.split(",")]
    results = []
    texts, labels = load_smsa("valid")
    results.append(run("smsa", "id", texts, labels, sizes, args.pool))
    texts, labels = load_tweeteval("val")
    results.append(run("tweeteval", "en", texts, labels, sizes, args.pool))
    print(json.dumps({"benchmark": "adaptation", "sizes": sizes, "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
