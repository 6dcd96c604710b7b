"""Sparse linear text classifiers: shared feature extraction for training and run time.

The same :class:`Featurizer` produces feature strings at training time (``train.py``, using
scikit-learn) and at run time. A trained model is a small ``.npz`` with the vocabulary, the
TF-IDF weights folded into the class weights, and the biases; run time needs only numpy.

Score of a text = softmax(((sum_o W'[o]) / sqrt(sum_o idf[o]^2) + b) / T) over its feature
occurrences o: term counts weighted by IDF and normalised by the root of the summed squared IDF of
the occurrences (TF-IDF + logistic regression, computed sparsely with no de-duplication), with a
temperature T fitted on the validation split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

from .features import BlockConfig, BlockFeaturizer, EncodeCache
from .normalize import NormToken, Resources


@dataclass(frozen=True)
class FeatureConfig:
    words: bool = True
    bigrams: bool = True
    char_min: int = 3
    char_max: int = 5
    negation: bool = True
    lexicon: bool = True

    def to_str(self) -> str:
        return (
            f"w={int(self.words)};b={int(self.bigrams)};c={self.char_min}-{self.char_max};"
            f"n={int(self.negation)};l={int(self.lexicon)}"
        )

    @classmethod
    def from_str(cls, s: str) -> FeatureConfig:
        kv = dict(part.split("=") for part in s.split(";"))
        cmin, cmax = (int(x) for x in kv["c"].split("-"))
        return cls(
            words=kv["w"] == "1",
            bigrams=kv["b"] == "1",
            char_min=cmin,
            char_max=cmax,
            negation=kv["n"] == "1",
            lexicon=kv["l"] == "1",
        )


class Featurizer:
    """The language-ID model's features: :class:`features.BlockFeaturizer`'s token loop (the one
    loop of every linear model) with this model's :class:`FeatureConfig`, without valence; the
    feature strings are the items of :meth:`~features.BlockFeaturizer.encode`."""

    def __init__(self, res: Resources, cfg: FeatureConfig) -> None:
        self.res = res
        self.cfg = cfg
        self.block = BlockFeaturizer(
            res,
            BlockConfig(
                words=cfg.words,
                bigrams=cfg.bigrams,
                char_min=cfg.char_min,
                char_max=cfg.char_max,
                negation=cfg.negation,
                lexicon=cfg.lexicon,
                valence=False,
            ),
        )

    def _word_feats(self, w: str) -> tuple[str, ...]:
        return self.block.word_features(w)

    def features(self, toks: Sequence[NormToken]) -> list[str]:
        """Feature strings of a text (with repeats: term frequency counts)."""
        return self.block.features(toks).items

    def encode(
        self,
        toks: Sequence[NormToken],
        word_items: Callable,
        feat_item: Callable,
        cache: EncodeCache | None = None,
    ) -> list:
        """Items of a text: see :meth:`features.BlockFeaturizer.encode`."""
        return self.block.encode(toks, word_items, feat_item, cache).items


class LinearModel:
    """A trained sparse linear classifier loaded from ``.npz`` (numpy only)."""

    def __init__(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as z:
            vocab = bytes(z["vocab"]).decode("utf-8").split("\n")
            self.weights = np.ascontiguousarray(z["weights"], dtype=np.float32)  # (F, C)
            self.idf2 = np.ascontiguousarray(z["idf"], dtype=np.float32) ** 2
            self.bias = z["bias"].astype(np.float32)
            self.labels: list[str] = [str(x) for x in z["labels"]]
            self.temperature = float(z["temperature"]) if "temperature" in z else 1.0
            self.config = FeatureConfig.from_str(str(z["config"]))
        self.index: dict[str, int] = {f: i for i, f in enumerate(vocab)}

    def bind(self, fz: Featurizer) -> None:
        """Attach the featurizer whose configuration this model was trained with."""
        self.fz = fz
        self._word_cache: dict[str, tuple[int, ...]] = {}
        self._entries = EncodeCache()

    def _word_ids(self, w: str) -> tuple[int, ...]:
        got = self._word_cache.get(w)
        if got is None:
            get = self.index.get
            got = tuple(i for i in map(get, self.fz._word_feats(w)) if i is not None)
            if len(self._word_cache) < 500_000:
                self._word_cache[w] = got
        return got

    def encode(self, toks: Sequence[NormToken]) -> list[int]:
        return self.fz.encode(toks, self._word_ids, self.index.get, self._entries)

    def predict_ids(self, id_lists: Sequence[list[int]]) -> np.ndarray:
        """Return class probabilities, shape (len(id_lists), C)."""
        n = len(id_lists)
        c = len(self.labels)
        if n == 0:
            return np.zeros((0, c), dtype=np.float32)
        lengths = np.fromiter((len(x) for x in id_lists), dtype=np.int64, count=n)
        flat = np.fromiter(chain.from_iterable(id_lists), dtype=np.int64, count=int(lengths.sum()))
        logits = np.tile(self.bias, (n, 1))
        nonempty = lengths > 0
        if flat.size:
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[nonempty]
            sums = np.add.reduceat(self.weights[flat], starts, axis=0)
            norms = np.sqrt(np.add.reduceat(self.idf2[flat], starts))
            logits[nonempty] += sums / norms[:, None]
        logits /= self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits


def save_model(
    path: Path,
    vocab: list[str],
    coef: np.ndarray,
    idf: np.ndarray,
    bias: np.ndarray,
    labels: list[str],
    config: FeatureConfig,
    temperature: float = 1.0,
) -> None:
    """Write a model: ``coef`` is (C, F) from scikit-learn; IDF is folded into the weights."""
    weights = (coef.T * idf[:, None]).astype(np.float16).astype(np.float32)
    np.savez_compressed(
        path,
        vocab=np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8),
        weights=weights.astype(np.float16),
        idf=idf.astype(np.float16),
        bias=bias.astype(np.float32),
        labels=np.array(labels),
        temperature=np.float32(temperature),
        config=np.array(config.to_str()),
    )
