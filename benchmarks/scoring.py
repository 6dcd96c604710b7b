"""Scoring benchmark: validation quality per model, provocation checks, and scorer throughput on
one core, this version against a baseline version in the same run.

    OMP_NUM_THREADS=1 python benchmarks/scoring.py [--quick] [--baseline REF | --no-baseline]

Quality is measured on the validation splits in ../shared/datasets (or $SIGAP_DATASETS); the
shipped models are trained on the train splits only. Provocation: recall on the hand-written
hateful/abusive posts of ``benchmarks/data/provocation_hateful_id.txt`` and the flag rate (false
positives) on the positive reviews of the SmSA validation split (real reviews, none abusive by
their label), plus the flag rate on its negative reviews. Throughput excludes start-up (models
are loaded and warmed before timing); the baseline scorer (``git archive REF`` of
``monitoring/scoring``, by default the commit before issue 20 item 4) and this one are timed
alternately in child processes (``benchmarks/scoring_child.py``), best of the rounds each, and the
ratio is printed, by wall clock and by CPU time of the timed process (texts per CPU-second: the
one-core figure when other work shares the cores). The last line of output is one JSON object
with all figures.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitoring.scoring import ScoreInput, get_scorer
from monitoring.scoring.batchio import score_stream
from monitoring.scoring.datasets import load_smsa, load_tweeteval
from monitoring.scoring.metrics import evaluate
from monitoring.scoring.normalize import forms, normalise_forms, tokenize

LABELS = ["negative", "neutral", "positive"]
ROOT = Path(__file__).resolve().parents[1]
BASELINE = "12d1efd284b18122fc3e5c5f4bd4870d69511635"  # the scorer before issue 20 item 4
HATEFUL = Path(__file__).resolve().parent / "data" / "provocation_hateful_id.txt"


def model_only(scorer, lang: str, texts: list[str]) -> list[str]:
    model = scorer.sent[lang]
    toks = [normalise_forms(forms(tokenize(t), scorer.res), scorer.res, model.normalisation)
            for t in texts]  # fmt: skip
    probs = model.predict(toks)
    return [LABELS[int(i)] for i in probs.argmax(axis=1)]


def extract(ref: str, into: Path) -> Path:
    """``monitoring/scoring`` of commit ``ref`` under ``into`` (via ``git archive``)."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "monitoring/__init__.py", "monitoring/scoring"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def child(root: Path, sets_path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve().parent / "scoring_child.py"), str(root),
         str(sets_path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def rate(flags: list[bool]) -> float:
    return round(100 * sum(flags) / max(len(flags), 1), 2)


def show(name: str, ev: dict) -> None:
    print(f"{name}: macro-F1 {ev['macro_f1']}  accuracy {ev['accuracy']}  "
          f"macro-recall {ev['macro_recall']}  (n={ev['n']})")  # fmt: skip
    print("  confusion, rows = gold, cols = predicted, order " + ", ".join(ev["labels"]))
    for lab, row in zip(ev["labels"], ev["confusion"], strict=True):
        print(f"    {lab:>9} {row}")


def throughput(scorer, texts: list[str], single_n: int) -> dict:
    scorer.score_batch(texts[:256])  # warm caches like a long-running process
    t = time.perf_counter()
    cpu = time.process_time()
    n = 0
    for i in range(0, len(texts), 512):
        n += len(scorer.score_batch(texts[i : i + 512]))
    batched = n / (time.perf_counter() - t)
    batched_cpu = n / (time.process_time() - cpu)
    t = time.perf_counter()
    cpu = time.process_time()
    for x in texts[:single_n]:
        scorer.score_batch([ScoreInput(x)])
    single_ms = 1000 * (time.perf_counter() - t) / single_n
    single_cpu_ms = 1000 * (time.process_time() - cpu) / single_n
    data = "\n".join(json.dumps({"id": i, "text": x}) for i, x in enumerate(texts)).encode()
    out = io.StringIO()
    t = time.perf_counter()
    score_stream(io.BytesIO(data), out, "jsonl", batch_size=512, scorer=scorer)
    stream = len(texts) / (time.perf_counter() - t)
    return {"batched_texts_per_s": round(batched), "batched_texts_per_cpu_s": round(batched_cpu),
            "single_ms": round(single_ms, 3), "single_cpu_ms": round(single_cpu_ms, 3),
            "jsonl_stream_texts_per_s": round(stream)}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller throughput run")
    ap.add_argument("--baseline", default=BASELINE, help="git commit of the scorer to compare")
    ap.add_argument("--no-baseline", action="store_true", help="time this version only")
    ap.add_argument("--rounds", type=int, default=2, help="alternating timing rounds")
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
        "smsa_valid": rate([r.is_provocative for r in res_id]),
        "tweeteval_val": rate([r.is_provocative for r in res_en]),
    }
    print(f"provocation flag rate on validation sentiment data (no abuse labels): {prov_rate}")
    figures["provocation_flag_rate_pct"] = prov_rate

    hateful = [x for x in HATEFUL.read_text(encoding="utf-8").splitlines()
               if x.strip() and not x.startswith("#")]  # fmt: skip
    positive = [x for x, y in zip(smsa_x, smsa_y, strict=True) if y == "positive"]
    negative = [x for x, y in zip(smsa_x, smsa_y, strict=True) if y == "negative"]
    texts = smsa_x + te_x
    texts = texts * (1 if args.quick else 3)
    versions = {"new": ROOT}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_baseline:
            versions = {"old": extract(args.baseline, Path(tmp) / "old"), "new": ROOT}
        sets_path = Path(tmp) / "sets.json"
        sets_path.write_text(json.dumps({"throughput": texts, "hateful": hateful,
                                         "positive": positive, "negative": negative}))  # fmt: skip
        runs: dict[str, list[dict]] = {name: [] for name in versions}
        for _ in range(args.rounds):
            for name, root in versions.items():
                runs[name].append(child(root, sets_path))
    compare: dict = {}
    for name, got in runs.items():
        flags = got[0]["flags"]
        compare[name] = {
            "batched_texts_per_s": max(g["batched_texts_per_s"] for g in got),
            "batched_runs": [g["batched_texts_per_s"] for g in got],
            "texts_per_cpu_s": max(g["texts_per_cpu_s"] for g in got),
            "texts_per_cpu_s_runs": [g["texts_per_cpu_s"] for g in got],
            "hateful_recall_pct": rate(flags["hateful"]),
            "positive_review_fp_pct": rate(flags["positive"]),
            "negative_review_flag_pct": rate(flags["negative"]),
        }
    if "old" in compare:
        compare["ratio_new_over_old"] = round(
            compare["new"]["batched_texts_per_s"] / compare["old"]["batched_texts_per_s"], 3
        )
        compare["cpu_ratio_new_over_old"] = round(
            compare["new"]["texts_per_cpu_s"] / compare["old"]["texts_per_cpu_s"], 3
        )
    print(f"provocation: recall on {len(hateful)} hand-written hateful/abusive posts, flag rate "
          f"on {len(positive)} positive and {len(negative)} negative SmSA valid reviews; "
          f"throughput (best of {args.rounds}, alternating): {compare}")  # fmt: skip
    figures["versions"] = compare
    figures["baseline"] = None if args.no_baseline else args.baseline

    tp = throughput(scorer, texts, 500 if args.quick else 2000)
    avg_len = sum(map(len, texts)) / len(texts)
    print(f"throughput of this version in-process, one core, start-up excluded ({len(texts)} "
          f"texts, mean {avg_len:.0f} chars): {tp}")  # fmt: skip
    figures["throughput"] = tp
    figures["mean_chars"] = round(avg_len, 1)
    models = Path(__file__).resolve().parents[1] / "monitoring" / "scoring" / "models"
    figures["model_mb"] = {p.stem: round(p.stat().st_size / 1e6, 2) for p in models.glob("*.npz")}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
