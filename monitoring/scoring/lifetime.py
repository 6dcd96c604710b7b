"""Objects that live as long as the process (models, lexicons, spaCy's vocabulary)."""

from __future__ import annotations

import gc


def settle() -> None:
    """Take every object alive now out of the garbage collector's full collections.

    Scoring a batch keeps its intermediate values (tokens, forms, results) alive across many young
    collections, so they reach the oldest generation and trigger full collections every few
    thousand posts; each full collection walks every object of the process, models, lexicons and
    the rest of the program (a quarter of a million objects in a worker), which was about 40 %
    of the scorer's CPU time. Loaded models live as long as the process: ``gc.freeze`` moves them,
    and everything else alive, to the permanent generation, so full collections walk only what
    was made since. Cyclic garbage is collected first so that none is frozen with them."""
    gc.collect()
    gc.freeze()
