"""The hoax rule's MinHash signatures, computed for a whole batch of texts with numpy, are the
values datasketch's ``MinHash.update_batch`` gives per text (a MinHash drawn from the seed, as
before), on a fixed sample, with the memo of shingle hashes cold, warm and full; the memoised
claim key is the one worked out word by word; the band hashes of a stored (64-bit) signature
are those of a fresh one."""

from __future__ import annotations

import re

import numpy as np
import pytest
from datasketch import MinHash

from monitoring.alerting import hoax
from monitoring.alerting.hoax import (
    MIN_TOKENS,
    NUM_PERM,
    SEED,
    band_hashes,
    claim_tokens,
    hash_values,
    shingles,
    signature,
)
from monitoring.demodata import generate

SAMPLE = [
    "BREAKING!!! Vaksin booster bikin magnet di lengan, jangan mau disuntik ya guys #hoaks",
    "breaking vaksin booster bikin magnet di lengan jangan mau disuntik ya guys https://t.co/x",
    "Gak percaya? Bank ini katanya mau bangkrut minggu depan, tarik semua tabungan kalian!!",
    "Kopi kenangan enak banget hari ini, antriannya panjang tapi worth it 😍😍",
    "Gaaaak bisaaa!!! yg kyk gini tuh hrs diviralkan, jgn diem aja sm2 kita",
    "too short to sign",
    # white space of every kind between and around words, links, handles and emoji
    "\u00a0Vaksin\u2003booster\tbikin\nmagnet\u2028di\x1clengan\u3000jangan\u200bmau "
    "https://t.co/x\u00a0@abc\u2029😡\u200d🔥 disuntik-ya guys'' \x85 *** ya-  ",
]


def _texts() -> list[str]:
    return SAMPLE + [item["text"] for item in generate(300, seed=3, run_id="sig")]


def _claim_tokens_unmemoised(text: str) -> list[str]:
    """The claim key as computed before the per-word memo: every word worked out again."""
    from monitoring.scoring.normalize import tokenize

    res = hoax._res()
    out: list[str] = []
    for token in tokenize(text):
        if token.kind != "word":
            continue
        word = token.text.lower().strip("'*$")
        if not word:
            continue
        form = res.word_form(word)
        mapped = res.id_slang_t.get(form) or res.en_slang_t.get(form)
        if mapped is None:
            collapsed = hoax._REPEATS.sub(r"\1", form)
            mapped = res.id_slang_t.get(collapsed) or res.en_slang_t.get(collapsed) or (form,)
        for part in mapped:
            part = hoax._REPEATS.sub(r"\1", part)
            if part and any(ch.isalnum() for ch in part):
                out.append(part)
    return out


def _before(text: str) -> MinHash | None:
    tokens = _claim_tokens_unmemoised(text)
    if len(tokens) < MIN_TOKENS:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update_batch(sorted(shingles(tokens)))
    return minhash


def test_memoised_claim_key_equals_the_word_by_word_one() -> None:
    hoax._WORD_PARTS.clear()
    hoax._PIECE_WORDS.clear()
    for _ in range(2):  # cold memo, then warm
        for text in _texts():
            assert claim_tokens(text) == _claim_tokens_unmemoised(text), text
    assert hoax._WORD_PARTS and hoax._PIECE_WORDS


def test_str_split_cuts_at_the_white_space_of_the_tokenizer() -> None:
    """The claim key splits texts with ``str.split``; the tokenizer's patterns stop at ``\\s``."""
    space = re.compile(r"\s")
    for code in range(0x110000):
        char = chr(code)
        assert char.isspace() == bool(space.match(char)), hex(code)


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_batch_signatures_identical_to_update_batch_per_text(
    batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a small numpy step too, so texts are split over several steps, and the default one
    monkeypatch.setattr(hoax, "_BATCH_SHINGLES", {1: 8192, 7: 50}.get(batch, hoax._BATCH_SHINGLES))
    # the shingle hashes and the signatures from a cold memo, once with bounds that fill up
    # early; then again from the memo of signatures
    hoax._GRAM_HASHES.clear()
    hoax._SIGNED.clear()
    bound = 100 if batch == 7 else hoax._GRAM_HASHES_MAX
    monkeypatch.setattr(hoax, "_GRAM_HASHES_MAX", bound)
    monkeypatch.setattr(hoax, "_SIGNED_MAX", 40 if batch == 7 else hoax._SIGNED_MAX)
    texts = _texts()
    texts += [t.upper() for t in texts[:50]] + texts[:20]  # the same claim keys again
    for _ in range(2):
        values: list[np.ndarray | None] = []
        for start in range(0, len(texts), batch):
            values.extend(hash_values(texts[start : start + batch]))
        signed = 0
        for text, new in zip(texts, values, strict=True):
            old = _before(text)
            if old is None:
                assert new is None, text
                continue
            assert new is not None, text
            signed += 1
            assert new.dtype == old.hashvalues.dtype
            assert np.array_equal(new, old.hashvalues), text
            assert not new.flags.writeable  # shared with the memo
        assert signed > 200  # the sample is mostly long enough to sign
        assert 0 < len(hoax._GRAM_HASHES) <= bound
        assert 0 < len(hoax._SIGNED) <= hoax._SIGNED_MAX


def test_signature_is_a_minhash_of_the_same_values() -> None:
    for text in _texts():
        new, old = signature(text), _before(text)
        if old is None:
            assert new is None
            continue
        assert new is not None
        assert np.array_equal(new.hashvalues, old.hashvalues)
        assert new.jaccard(old) == 1.0


def test_band_hashes_of_stored_signatures_equal_fresh_ones_and_name_their_band() -> None:
    fresh = [v for v in hash_values(_texts()) if v is not None]
    matrix = np.stack(fresh)
    stored = np.stack(
        [np.frombuffer(v.astype(np.uint64).tobytes(), dtype=np.uint64) for v in fresh]
    )
    hashes = band_hashes(matrix, 32, 4)
    assert hashes.dtype == np.int64 and hashes.shape == (len(fresh), 32)
    assert np.array_equal(hashes, band_hashes(stored, 32, 4))
    # one row's hashes one by one equal the batch's
    assert np.array_equal(band_hashes(matrix[5:6], 32, 4)[0], hashes[5])
    # the same four values in two different bands give two different hashes
    same = np.tile(matrix[0, :4], 32).reshape(1, 128)
    assert len(set(band_hashes(same, 32, 4)[0].tolist())) == 32
    # equal bands give equal hashes, a different band value another hash
    other = matrix[0].copy()
    other[0] += 1
    pair = band_hashes(np.stack([matrix[0], other]), 32, 4)
    assert pair[0, 0] != pair[1, 0] and np.array_equal(pair[0, 1:], pair[1, 1:])
