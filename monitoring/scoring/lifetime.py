"""Objects that live as long as the process (models, lexicons, spaCy's vocabulary), and the
garbage collector's pace in a process that scores batches."""

from __future__ import annotations

import gc

# Collections for a process that works in batches (a pipeline worker scores and stores chunks of
# 1,000 mentions): a young collection every 10,000 net allocations instead of 700, and a full
# one considered after 100 middle ones instead of 10. Measured on
# ``benchmarks/early_warning.py --n 10000 --rounds 6`` (60 chunks): with Python's defaults the
# collector ran 72 full collections, 47 ms each (each walks every object a chunk keeps alive
# at that moment: rows, tokens, results), 4.2 s of the process's 23 s; with these 2 full
# collections and 0.8 s in all. Nothing is switched off: cyclic garbage is still collected.
BATCH_THRESHOLDS = (10_000, 10, 100)


def settle() -> None:
    """Take every object alive now out of the garbage collector's full collections, and pace
    the collector for batches (``BATCH_THRESHOLDS``).

    Scoring a batch keeps its intermediate values (tokens, forms, results) alive across many young
    collections, so they reach the oldest generation and trigger full collections every few
    thousand posts; each full collection walks every object of the process, models, lexicons and
    the rest of the program (a quarter of a million objects in a worker), which was about 40 %
    of the scorer's CPU time. Loaded models live as long as the process: ``gc.freeze`` moves them,
    and everything else alive, to the permanent generation, so full collections walk only what
    was made since. Cyclic garbage is collected first so that none is frozen with them.

    Freezing also makes the oldest generation small, and Python starts a full collection when
    the objects promoted since the last one reach a quarter of it: a chunk's live values did at
    almost every chunk. The higher thresholds make full collections rarer still."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*BATCH_THRESHOLDS)
