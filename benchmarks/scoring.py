"""Scoring benchmark: validation quality per model and scorer throughput on one core.

    OMP_NUM_THREADS=1 python benchmarks/scoring.py [--quick]

Quality is measured on the validation splits in ../shared/datasets (or $SIGAP_DATASETS); the
shipped models are trained on the train splits only. Throughput excludes start-up (models are
loaded and warmed before timing). The last line of output is one JSON object with all figures.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitoring.scoring import ScoreInput, get_scorer
from monitoring.scoring.batchio import score_stream
from monitoring.scoring.datasets import load_smsa, load_tweeteval
from monitoring.scoring.metrics import evaluate
from monitoring.scoring.normalize import forms, normalise_forms, tokenize

LABELS = ["negative", "neutral", "positive"]


def model_only(scorer, lang: str, texts: list[str]) -> list[str]:
    model = scorer.sent[lang]
    ids = [model.encode(normalise_forms(forms(tokenize(t), scorer.res), scorer.res, lang))
           for t in texts]  # fmt: skip
    probs = model.predict_ids(ids)
    return [LABELS[int(i)] for i in probs.argmax(axis=1)]


def show(name: str, ev: dict) -> None:
    print(f"{name}: macro-F1 {ev['macro_f1']}  accuracy {ev['accuracy']}  "
          f"macro-recall {ev['macro_recall']}  (n={ev['n']})")  # fmt: skip
    print("  confusion, rows = gold, cols = predicted, order " + ", ".join(ev["labels"]))
    for lab, row in zip(ev["labels"], ev["confusion"], strict=True):
        print(f"    {lab:>9} {row}")


def throughput(scorer, texts: list[str], single_n: int) -> dict:
    scorer.score_batch(texts[:256])  # warm caches like a long-running process
    t = time.perf_counter()
    n = 0
    for i in range(0, len(texts), 512):
        n += len(scorer.score_batch(texts[i : i + 512]))
    batched = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for x in texts[:single_n]:
        scorer.score_batch([ScoreInput(x)])
    single_ms = 1000 * (time.perf_counter() - t) / single_n
    data = "\n".join(json.dumps({"id": i, "text": x}) for i, x in enumerate(texts)).encode()
    out = io.StringIO()
    t = time.perf_counter()
    score_stream(io.BytesIO(data), out, "jsonl", batch_size=512, scorer=scorer)
    stream = len(texts) / (time.perf_counter() - t)
    return {"batched_texts_per_s": round(batched), "single_ms": round(single_ms, 3),
            "jsonl_stream_texts_per_s": round(stream)}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller throughput run")
    args = ap.parse_args()
    t0 = time.perf_counter()
    scorer = get_scorer()
    startup = time.perf_counter() - t0
    smsa_x, smsa_y = load_smsa("valid")
    te_x, te_y = load_tweeteval("val")
    figures: dict = {"startup_s": round(startup, 2)}

    ev = evaluate(smsa_y, model_only(scorer, "id", smsa_x), LABELS)
    show("sentiment_id model (SmSA valid)", ev)
    figures["sentiment_id"] = {k: ev[k] for k in ("macro_f1", "accuracy", "macro_recall")}
    ev = evaluate(te_y, model_only(scorer, "en", te_x), LABELS)
    show("sentiment_en model (TweetEval val)", ev)
    figures["sentiment_en"] = {k: ev[k] for k in ("macro_f1", "accuracy", "macro_recall")}

    # whole scorer, language detected automatically (no hint)
    res_id = scorer.score_batch(smsa_x)
    res_en = scorer.score_batch(te_x)
    ev = evaluate(smsa_y, [r.sentiment for r in res_id], LABELS)
    show("whole scorer, no language hint (SmSA valid)", ev)
    figures["scorer_smsa"] = {k: ev[k] for k in ("macro_f1", "accuracy", "macro_recall")}
    ev = evaluate(te_y, [r.sentiment for r in res_en], LABELS)
    show("whole scorer, no language hint (TweetEval val)", ev)
    figures["scorer_tweeteval"] = {k: ev[k] for k in ("macro_f1", "accuracy", "macro_recall")}

    gold = ["id"] * len(res_id) + ["en"] * len(res_en)
    pred = [r.language for r in res_id + res_en]
    ev = evaluate(gold, pred, ["id", "en", "other"])
    show("language id (SmSA valid = id, TweetEval val = en)", ev)
    figures["langid"] = {"accuracy": ev["accuracy"], "macro_recall": ev["macro_recall"]}

    prov_rate = {
        "smsa_valid": round(100 * sum(r.is_provocative for r in res_id) / len(res_id), 2),
        "tweeteval_val": round(100 * sum(r.is_provocative for r in res_en) / len(res_en), 2),
    }
    print(f"provocation flag rate on validation sentiment data (no labels): {prov_rate}")
    figures["provocation_flag_rate_pct"] = prov_rate

    texts = smsa_x + te_x
    texts = texts * (1 if args.quick else 3)
    tp = throughput(scorer, texts, 500 if args.quick else 2000)
    avg_len = sum(map(len, texts)) / len(texts)
    print(f"throughput, one core, start-up excluded ({len(texts)} texts, mean {avg_len:.0f} "
          f"chars): {tp}")  # fmt: skip
    figures["throughput"] = tp
    figures["mean_chars"] = round(avg_len, 1)
    models = Path(__file__).resolve().parents[1] / "monitoring" / "scoring" / "models"
    figures["model_mb"] = {p.stem: round(p.stat().st_size / 1e6, 2) for p in models.glob("*.npz")}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
