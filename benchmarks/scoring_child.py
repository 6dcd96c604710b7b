"""Child of benchmarks/scoring.py: times one version of the scorer on one core.

    python benchmarks/scoring_child.py ROOT TEXTS_JSON

``ROOT`` is a directory holding a ``monitoring/scoring`` package (this checkout, or an older
version extracted by ``git archive``); ``TEXTS_JSON`` a JSON object with ``throughput`` (texts to
time) and any other named lists of texts, whose ``is_provocative`` flags are returned. Prints one
JSON object: ``batched_texts_per_s`` (wall clock), ``texts_per_cpu_s`` (texts per second of this
process's CPU time: the one-core figure on a shared machine) and ``flags`` per named list.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json
import sys
import time


def main() -> int:
    root, texts_path = sys.argv[1], sys.argv[2]
    sys.path.insert(0, root)
    from monitoring.scoring import get_scorer

    with open(texts_path, encoding="utf-8") as fh:
        sets = json.load(fh)
    scorer = get_scorer()
    texts = sets.pop("throughput")
    scorer.score_batch(texts[:256])  # warm caches like a long-running process
    t = time.perf_counter()
    cpu = time.process_time()
    n = 0
    for i in range(0, len(texts), 512):
        n += len(scorer.score_batch(texts[i : i + 512]))
    batched = n / (time.perf_counter() - t)
    per_cpu_s = n / (time.process_time() - cpu)
    flags = {
        name: [bool(r.is_provocative) for r in scorer.score_batch(items)]
        for name, items in sets.items()
    }
    print(
        json.dumps(
            {
                "batched_texts_per_s": round(batched),
                "texts_per_cpu_s": round(per_cpu_s),
                "flags": flags,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
