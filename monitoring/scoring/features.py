"""Sentiment features in blocks, and the sparse linear model that scores them.

Guarantees:

* Training (``train.py``) and run time build the feature matrix with the same function,
  :func:`block_matrix`, from the same feature strings (:class:`BlockFeaturizer`), so a model scores
  exactly the features it was trained on.
* The matrix has three blocks of columns: **words** (words, negation-marked words, word pairs),
  **chars** (character n-grams inside words) and **extras** (polarity-lexicon hits, ``!``/``?``,
  emoji, and two negation-aware valence columns from the VADER lexicon and emoji table). Each
  entry is ``(1 + log(count)) * idf`` (sublinear term frequency; valence columns ``log(1 + sum)``),
  and each block of each row is scaled to unit L2 norm (optionally ``cfg.block_norm=False``: one
  norm over the row).
* Scoring is split in two so a residual layer can sit on top later:
  :meth:`SentimentModel.base_features` (texts -> :class:`Rows`, the base feature matrix) and
  :meth:`SentimentModel.base_scores` (matrix -> logits of the final linear layer, whose weights are
  a blend of a multinomial logistic regression and an NB-weighted one-vs-rest regression folded
  into one matrix). :meth:`SentimentModel.predict` = softmax(scores / temperature).
* Run time is numpy only and vectorised over the batch; the per-post Python work is the token
  loop of :meth:`BlockFeaturizer.encode` with per-word caches. VADER's own code never runs: its
  lexicon is data (``data/vader_valence.tsv``, MIT, see ``data/LICENSE-vader.txt``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .normalize import DATA_DIR, NormToken, Resources

BLOCKS = ("words", "chars", "extras")
VALENCE_FEATURES = ("V:pos", "V:neg")
NEGATION_SCALAR = -0.74  # VADER's factor for a negated lexicon word


def block_of(feature: str) -> int:
    """Block index of a feature string: words 0, chars 1, extras 2."""
    head = feature[:2]
    if head in ("w:", "b:"):
        return 0
    if head == "c:":
        return 1
    return 2


@lru_cache(maxsize=1)
def vader_valence() -> tuple[dict[str, float], dict[str, float]]:
    """(word -> valence, emoji -> valence) from the vendored VADER files."""

    def read(name: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                key, value = line.split("\t")
                out[key] = float(value)
        return out

    return read("vader_valence.tsv"), read("vader_emoji_valence.tsv")


@dataclass(frozen=True)
class BlockConfig:
    words: bool = True
    bigrams: bool = True
    char_min: int = 3
    char_max: int = 5
    negation: bool = True
    lexicon: bool = True
    valence: bool = True
    sublinear: bool = True
    block_norm: bool = True

    def to_str(self) -> str:
        return (
            f"w={int(self.words)};b={int(self.bigrams)};c={self.char_min}-{self.char_max};"
            f"n={int(self.negation)};l={int(self.lexicon)};v={int(self.valence)};"
            f"s={int(self.sublinear)};bn={int(self.block_norm)}"
        )

    @classmethod
    def from_str(cls, s: str) -> BlockConfig:
        kv = dict(part.split("=") for part in s.split(";"))
        cmin, cmax = (int(x) for x in kv["c"].split("-"))
        flag = {k: v == "1" for k, v in kv.items() if k != "c"}
        return cls(
            words=flag["w"],
            bigrams=flag["b"],
            char_min=cmin,
            char_max=cmax,
            negation=flag["n"],
            lexicon=flag["l"],
            valence=flag["v"],
            sublinear=flag["s"],
            block_norm=flag["bn"],
        )


class Encoded(NamedTuple):
    """One text: feature items (strings at training time, column ids at run time, repeats
    count) and its negation-aware valence sums (positive, negative magnitude)."""

    items: list
    pos: float
    neg: float


def word_features(w: str, words: bool, char_min: int, char_max: int) -> tuple[str, ...]:
    """The features of one word on its own: the word (``w:``) and its character n-grams
    (``c:``, of ``<w>``, lengths ``char_min``-``char_max``, for alphabetic words)."""
    feats: list[str] = []
    if words:
        feats.append("w:" + w)
    if char_max > 0 and w.isalpha():
        s = f"<{w}>"
        n = len(s)
        for k in range(char_min, char_max + 1):
            for i in range(0, n - k + 1):
                feats.append("c:" + s[i : i + k])
    return tuple(feats)


class EncodeCache:
    """What :meth:`BlockFeaturizer.encode` keeps per distinct token: a word's items and valence,
    apart for words in and out of a negation's scope, and an emoji's. One cache per kind of item
    (strings at training time, a model's column ids at run time)."""

    __slots__ = ("emoji", "negated", "plain")
    LIMIT = 300_000

    def __init__(self) -> None:
        self.plain: dict[str, tuple[tuple, float | None]] = {}
        self.negated: dict[str, tuple[tuple, float | None]] = {}
        self.emoji: dict[str, tuple[tuple, float | None]] = {}


@dataclass
class BlockFeaturizer:
    """The one token loop of the linear models: sentiment (this class) and language ID
    (``linear.Featurizer``, a configuration without valence) both encode with it."""

    res: Resources
    cfg: BlockConfig
    _cache: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _entries: EncodeCache = field(default_factory=EncodeCache)

    def __post_init__(self) -> None:
        self.valence, self.emoji_valence = vader_valence()

    def word_features(self, w: str) -> tuple[str, ...]:
        got = self._cache.get(w)
        if got is not None:
            return got
        cfg = self.cfg
        out = word_features(w, cfg.words, cfg.char_min, cfg.char_max)
        if len(self._cache) < 300_000:
            self._cache[w] = out
        return out

    def features(self, toks: Sequence[NormToken]) -> Encoded:
        """Feature strings of a text (training)."""
        return self.encode(toks, self.word_features, _identity, self._entries)

    def _word_entry(
        self,
        w: str,
        negated: bool,
        word_items: Callable,
        feat_item: Callable,
        cache: EncodeCache,
    ) -> tuple[tuple, float | None]:
        """A word's items (its own features, the negation-marked word, its polarity-lexicon
        hit) and its valence (negation applied; None when not in the lexicon or not used)."""
        cfg = self.cfg
        res = self.res
        items = list(word_items(w))
        neg_scope = cfg.negation and negated
        extra = []
        if neg_scope:
            extra.append("w:NEG_" + w)
        if cfg.lexicon:
            if w in res.pos_words:
                extra.append("L:negpos" if neg_scope else "L:pos")
            elif w in res.neg_words:
                extra.append("L:negneg" if neg_scope else "L:neg")
        for f in extra:
            x = feat_item(f)
            if x is not None:
                items.append(x)
        v = self.valence.get(w) if cfg.valence else None
        if v is not None and negated:
            v *= NEGATION_SCALAR
        entry = (tuple(items), v)
        table = cache.negated if negated else cache.plain
        if len(table) < cache.LIMIT:
            table[w] = entry
        return entry

    def _emoji_entry(self, w: str, feat_item: Callable, cache: EncodeCache):
        emo = self.res.emoji_polarity
        items = []
        for sign in ("e:" + w, "E:" + emo[w] if w in emo else None):
            if sign is not None:
                x = feat_item(sign)
                if x is not None:
                    items.append(x)
        v = None
        if self.cfg.valence:
            v = self.emoji_valence.get(w)
            if v is None:
                v = self.valence.get(w)  # emoticons such as ":)" are in the word lexicon
        entry = (tuple(items), v)
        if len(cache.emoji) < cache.LIMIT:
            cache.emoji[w] = entry
        return entry

    def encode(
        self,
        toks: Sequence[NormToken],
        word_items: Callable,
        feat_item: Callable,
        cache: EncodeCache | None = None,
    ) -> Encoded:
        """``word_items(w)`` gives the items of a word (cached by the caller), ``feat_item(f)``
        maps any other feature string to an item or None (out of vocabulary). ``cache`` keeps
        each distinct token's items and valence; it must belong to this pair of functions.

        Per token: a word or hashtag gives its word items, ``w:NEG_`` when negated, ``b:``
        with the previous token, ``L:`` for a polarity-lexicon word and its valence; ``!``/``?``
        punctuation ``p:``; an emoji or emoticon ``e:``, ``E:`` and its valence; a URL or
        @handle ``w:__url``/``w:__user``. The order of a text's items is immaterial (they are
        counted), the order of its valence terms is kept (float sums)."""
        if cache is None:
            cache = EncodeCache()
        out: list = []
        ext = out.extend
        app = out.append
        prev = "<s>"
        bigrams = self.cfg.bigrams
        plain, negated_words, emoji = cache.plain, cache.negated, cache.emoji
        pos = neg = 0.0
        for t in toks:
            w = t[0]
            kind = t[3]
            if kind == "word" or kind == "hashtag":
                if t[4]:
                    entry = negated_words.get(w) or self._word_entry(
                        w, True, word_items, feat_item, cache
                    )
                else:
                    entry = plain.get(w) or self._word_entry(w, False, word_items, feat_item, cache)
                ext(entry[0])
                if bigrams:
                    x = feat_item(f"b:{prev} {w}")
                    if x is not None:
                        app(x)
                v = entry[1]
                if v is not None:
                    if v > 0:
                        pos += v
                    else:
                        neg -= v
                prev = w
            elif kind == "punct":
                mark = "p:!" if "!" in w else "p:?" if "?" in w else None
                if mark is not None:
                    x = feat_item(mark)
                    if x is not None:
                        app(x)
                prev = "<p>"
            elif kind == "emoji" or kind == "emoticon":
                entry = emoji.get(w) or self._emoji_entry(w, feat_item, cache)
                ext(entry[0])
                v = entry[1]
                if v is not None:
                    if v > 0:
                        pos += v
                    else:
                        neg -= v
                prev = w
            else:  # url, mention
                x = feat_item("w:" + w)
                if x is not None:
                    app(x)
                prev = w
        return Encoded(out, pos, neg)


def _identity(x: str) -> str:
    return x


class Rows(NamedTuple):
    """A sparse matrix (numpy arrays only): CSR arrays ``indptr`` (n + 1), ``indices``, ``data``
    over ``shape``, plus a dense side block ``dense`` (n, d) holding columns ``dense_cols`` (the
    valence columns; d = 0 when unused). Column ids are unique within a row."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]
    dense: np.ndarray
    dense_cols: np.ndarray

    def to_scipy(self):
        from scipy import sparse

        out = sparse.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)
        if self.dense.size:
            rows, which = np.nonzero(self.dense)
            side = sparse.csr_matrix(
                (self.dense[rows, which], (rows, self.dense_cols[which])), shape=self.shape
            )
            out = (out + side).tocsr()
        return out


def block_matrix(
    encoded: Sequence[Encoded],
    idf: np.ndarray,
    blocks: np.ndarray,
    valence_cols: tuple[int, int] | None,
    sublinear: bool = True,
    block_norm: bool = True,
) -> Rows:
    """The base feature matrix of ``encoded`` texts whose items are column ids.

    ``idf`` and ``blocks`` (block index per column) have one entry per column;
    ``valence_cols`` are the columns of the two valence features (None: not used), which belong
    to the extras block and are kept as a dense side block."""
    n = len(encoded)
    width = len(idf)
    lengths = np.array([len(e.items) for e in encoded], dtype=np.int64)
    cols = np.fromiter(
        chain.from_iterable(e.items for e in encoded), dtype=np.int64, count=int(lengths.sum())
    )
    rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
    keys, counts = np.unique(rows * width + cols, return_counts=True)
    rows = keys // width
    cols = keys - rows * width
    vals = counts.astype(np.float64)
    if sublinear:
        vals = 1.0 + np.log(vals)
    vals *= idf[cols]
    nb = len(BLOCKS) if block_norm else 1
    norm_key = rows * nb + blocks[cols] if block_norm else rows
    sq = np.bincount(norm_key, weights=vals * vals, minlength=n * nb).astype(np.float64)
    if valence_cols is not None:
        dense_cols = np.asarray(valence_cols, dtype=np.int64)
        dense = np.fromiter(
            chain.from_iterable((e.pos, e.neg) for e in encoded), dtype=np.float64, count=2 * n
        ).reshape(n, 2)
        if sublinear:
            dense = np.log1p(dense)
        dense *= idf[dense_cols]
        extras = np.arange(n) * nb + (BLOCKS.index("extras") if block_norm else 0)
        sq[extras] += (dense * dense).sum(axis=1)
    else:
        dense_cols = np.zeros(0, dtype=np.int64)
        dense = np.zeros((n, 0))
    norms = np.sqrt(sq)
    norms[norms == 0] = 1.0
    vals /= norms[norm_key]
    if dense.size:
        dense /= norms[extras][:, None]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return Rows(indptr, cols, vals, (n, width), dense, dense_cols)


def sparse_dot(x: Rows, weights: np.ndarray) -> np.ndarray:
    """``x @ weights`` for a :class:`Rows` matrix and a dense (F, C) array, numpy only."""
    n = x.shape[0]
    out = np.zeros((n, weights.shape[1]), dtype=np.float64)
    if x.data.size:
        nonempty = np.diff(x.indptr) > 0
        contrib = weights[x.indices] * x.data[:, None]
        out[nonempty] = np.add.reduceat(contrib, x.indptr[:-1][nonempty], axis=0)
    if x.dense.size:
        out += x.dense @ weights[x.dense_cols]
    return out


class SentimentModel:
    """A trained block-feature sentiment model loaded from ``.npz`` (numpy only)."""

    def __init__(self, path: Path, res: Resources) -> None:
        with np.load(path, allow_pickle=False) as z:
            vocab = bytes(z["vocab"]).decode("utf-8").split("\n")
            self.weights = np.ascontiguousarray(z["weights"], dtype=np.float32)  # (F, C)
            self.idf = z["idf"].astype(np.float64)
            self.bias = z["bias"].astype(np.float64)
            self.labels: list[str] = [str(x) for x in z["labels"]]
            self.temperature = float(z["temperature"])
            self.config = BlockConfig.from_str(str(z["config"]))
            self.normalisation = str(z["normalisation"])  # slang mapping: "id", "en" or "raw"
        self.index: dict[str, int] = {f: i for i, f in enumerate(vocab)}
        self.blocks = np.array([block_of(f) for f in vocab], dtype=np.int64)
        self.valence_cols = (
            (self.index[VALENCE_FEATURES[0]], self.index[VALENCE_FEATURES[1]])
            if self.config.valence
            else None
        )
        self.fz = BlockFeaturizer(res, self.config)
        self._word_cache: dict[str, tuple[int, ...]] = {}
        self._entries = EncodeCache()

    def _word_ids(self, w: str) -> tuple[int, ...]:
        got = self._word_cache.get(w)
        if got is None:
            get = self.index.get
            got = tuple(i for i in map(get, self.fz.word_features(w)) if i is not None)
            if len(self._word_cache) < 500_000:
                self._word_cache[w] = got
        return got

    def encode(self, toks: Sequence[NormToken]) -> Encoded:
        return self.fz.encode(toks, self._word_ids, self.index.get, self._entries)

    def base_features(self, texts: Sequence[Sequence[NormToken]]) -> Rows:
        """The base feature matrix (n, F) of normalised texts."""
        return block_matrix(
            [self.encode(t) for t in texts],
            self.idf,
            self.blocks,
            self.valence_cols,
            self.config.sublinear,
            self.config.block_norm,
        )

    def base_scores(self, x: Rows) -> np.ndarray:
        """Logits (n, C) of the final linear layer (before temperature)."""
        return sparse_dot(x, self.weights) + self.bias

    def predict(self, texts: Sequence[Sequence[NormToken]]) -> np.ndarray:
        """Class probabilities, shape (len(texts), C)."""
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return softmax(self.base_scores(self.base_features(texts)) / self.temperature)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z.astype(np.float32)


def save_sentiment_model(
    path: Path,
    vocab: list[str],
    weights: np.ndarray,
    idf: np.ndarray,
    bias: np.ndarray,
    labels: list[str],
    config: BlockConfig,
    temperature: float,
    normalisation: str,
) -> None:
    """``weights`` is (F, C), the final layer over the base features (float16 on disk)."""
    np.savez_compressed(
        path,
        vocab=np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8),
        weights=weights.astype(np.float16),
        idf=idf.astype(np.float32),
        bias=bias.astype(np.float32),
        labels=np.array(labels),
        temperature=np.float32(temperature),
        config=np.array(config.to_str()),
        normalisation=np.array(normalisation),
    )
