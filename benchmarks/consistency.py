"""Benchmark: precision and recall of the consistency check per category.

Reads the hand-written cases (``benchmarks/data/consistency_cases.jsonl``, committed before the
checker) and their approved lines (``consistency_lines.json``), runs ``incidents.consistency.check``
on each and prints, per split (``dev``: the cases the rules were written against; ``heldout``:
every third case of each category, not looked at while writing the rules; ``all``), precision and
recall per category and the pass rate of the faithful paraphrases. Last line: one JSON object.

    python benchmarks/consistency.py [--split all|dev|heldout] [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from incidents.consistency import CATEGORIES, check  # noqa: E402
from incidents.line import ApprovedLine  # noqa: E402

DATA = ROOT / "benchmarks" / "data"


def load() -> tuple[list[dict], dict[str, ApprovedLine]]:
    lines = json.loads((DATA / "consistency_lines.json").read_text(encoding="utf-8"))
    approved = {
        key: ApprovedLine(
            statement=value["statement"],
            language=value["language"],
            key_messages=tuple(value["key_messages"]),
            must_not=tuple(value["must_not"]),
        )
        for key, value in lines.items()
    }
    with open(DATA / "consistency_cases.jsonl", encoding="utf-8") as fh:
        cases = [json.loads(row) for row in fh if row.strip()]
    return cases, approved


def score(rows: list[tuple[dict, frozenset[str]]]) -> dict:
    out: dict = {}
    for category in CATEGORIES:
        tp = sum(1 for case, got in rows if category in got and category in case["expect"])
        fp = sum(1 for case, got in rows if category in got and category not in case["expect"])
        fn = sum(1 for case, got in rows if category not in got and category in case["expect"])
        out[category] = {
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
            "support": tp + fn,
        }
    faithful = [(case, got) for case, got in rows if not case["expect"]]
    out["faithful_pass_rate"] = (
        round(sum(1 for _, got in faithful if not got) / len(faithful), 3) if faithful else None
    )
    out["faithful"] = len(faithful)
    out["cases"] = len(rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--split", choices=("all", "dev", "heldout"), default="all")
    args = parser.parse_args()
    cases, approved = load()
    started = time.perf_counter()
    rows = []
    for case in cases:
        result = check(case["text"], approved[case["line"]])
        rows.append((case, result.categories, result))
    elapsed = time.perf_counter() - started
    report: dict = {"ms_per_text": round(1000 * elapsed / len(cases), 2)}
    for split in ("dev", "heldout", "all") if args.split == "all" else (args.split,):
        chosen = [(c, g) for c, g, _ in rows if split == "all" or c["split"] == split]
        report[split] = score(chosen)
        print(f"== {split} ({len(chosen)} cases)")
        for category in CATEGORIES:
            figures = report[split][category]
            print(
                f"  {category:9} precision {figures['precision']}  recall {figures['recall']}"
                f"  (n={figures['support']})"
            )
        print(f"  faithful paraphrases passing: {report[split]['faithful_pass_rate']}")
    if args.show_misses:
        for case, got, result in rows:
            if args.split != "all" and case["split"] != args.split:
                continue
            if set(got) != set(case["expect"]):
                print(case["id"], case["expect"], sorted(got), case["text"])
                for finding in result.findings:
                    print("    ", finding.category, repr(finding.excerpt), finding.reason)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
