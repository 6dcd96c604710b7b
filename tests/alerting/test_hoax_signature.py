"""The hoax rule's MinHash signatures are the same with the shared permutations as with a
MinHash drawn from the seed per text (the computation before), on a fixed sample."""

from __future__ import annotations

import numpy as np
from datasketch import MinHash

from monitoring.alerting.hoax import (
    MIN_TOKENS,
    NUM_PERM,
    SEED,
    band_hashes,
    claim_tokens,
    shingles,
    signature,
)
from monitoring.demodata import generate

SAMPLE = [
    "BREAKING!!! Vaksin booster bikin magnet di lengan, jangan mau disuntik ya guys #hoaks",
    "breaking vaksin booster bikin magnet di lengan jangan mau disuntik ya guys https://t.co/x",
    "Gak percaya? Bank ini katanya mau bangkrut minggu depan, tarik semua tabungan kalian!!",
    "Kopi kenangan enak banget hari ini, antriannya panjang tapi worth it 😍😍",
    "too short to sign",
]


def _before(text: str) -> MinHash | None:
    tokens = claim_tokens(text)
    if len(tokens) < MIN_TOKENS:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update_batch(sorted(shingles(tokens)))
    return minhash


def test_signatures_identical_to_per_text_permutations() -> None:
    texts = SAMPLE + [item["text"] for item in generate(300, seed=3, run_id="sig")]
    signed = 0
    for text in texts:
        new, old = signature(text), _before(text)
        if old is None:
            assert new is None, text
            continue
        assert new is not None, text
        signed += 1
        assert np.array_equal(new.hashvalues, old.hashvalues), text
        assert band_hashes(new, 32, 4) == band_hashes(old, 32, 4)
        assert new.jaccard(old) == 1.0
    assert signed > 200  # the sample is mostly long enough to sign
