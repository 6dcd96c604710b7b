"""Per-tenant adaptation: a residual linear layer over the base models, learnt from labels.

What it guarantees (docs/scoring.md, "Per-tenant layer"):

* **Same features as the base models.** A tenant's layer reads the base feature matrix ``X`` of
  the sentiment model that scores a post (``SentimentModel.base_features``) and adds to the base
  logits: sentiment ``p = softmax((z + X·ΔW + Δb) / T)``, provocation
  ``p = sigmoid(logit(s) + X·w + b)`` where ``s`` is the lexicon score. With no layer (or a layer
  of zeros) a post scores exactly as the base models score it.
* **One training function** (:func:`train`) serves the per-tenant classifier (``monitoring``'s
  services, on the slow queue) and the offline ``manage.py score --adapt-from``: both score the
  labelled texts with the base scorer (recording ``X``, ``z`` and ``s`` through the same hook the
  adapted scorer uses), fit by accelerated gradient descent (numpy only, deterministic) with an L2
  penalty towards zero chosen by k-fold cross-validation, and keep a head (sentiment or
  provocation, per base model language) only when its cross-validated accuracy is at least the
  base model's on the same labels.
* **Small, portable weights.** Only the columns the labelled texts use are stored (sparse), with a
  fingerprint of the base models; :meth:`Adapter.from_bytes` refuses weights made for other base
  models (``AdapterMismatch``), so a base-model change never applies a stale layer.

A post's *primary* base model is the English one when its language is ``en`` and the Indonesian
one otherwise; the provocation head reads the primary model's features. Code-mixed Indonesian
posts blend in the English model as the base scorer does, each model with its own layer.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .features import Rows, sparse_dot
from .schema import SENTIMENT_LABELS, ScoreInput

if TYPE_CHECKING:
    from .provocation import Provocation
    from .scorer import Scorer

MODEL_LANGS = ("id", "en")
HEADS = ("sentiment", "provocation")
LAMBDAS = (0.1, 0.01, 0.001)  # L2 penalty grid (mean loss + λ/2·|W|²), strongest first
MIN_EXAMPLES = 10  # fewer labels for a head and language: no layer for it
FOLDS = 5
ITERATIONS = 150
EPS = 0.02  # lexicon scores are clipped to [EPS, 1 - EPS] before their logit


class AdapterMismatch(ValueError):
    """The weights were made for other base models."""


def fingerprint(scorer: Scorer) -> str:
    """Identifies the base sentiment models (vocabulary and weight shapes)."""
    h = hashlib.sha256()
    for lang in MODEL_LANGS:
        m = scorer.sent[lang]
        h.update(f"{lang}:{m.weights.shape}:{m.temperature:.6f}:{len(m.index)};".encode())
        h.update(np.ascontiguousarray(m.bias, dtype=np.float32).tobytes())
    return h.hexdigest()[:16]


def primary_lang(code: str) -> str:
    return "en" if code == "en" else "id"


# --- the layer at run time --------------------------------------------------------------------


@dataclass
class Adapter:
    """A tenant's residual layer. ``sentiment[lang] = (cols, ΔW[cols] (k, 3), Δb (3,))``,
    ``provocation[lang] = (cols, w[cols] (k,), b)``; absent keys add nothing."""

    base: str
    sentiment: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    provocation: dict[str, tuple[np.ndarray, np.ndarray, float]] = field(default_factory=dict)
    _dense: dict[tuple[str, str, int], np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def empty(self) -> bool:
        return not self.sentiment and not self.provocation

    def _weights(self, head: str, lang: str, width: int) -> np.ndarray:
        key = (head, lang, width)
        got = self._dense.get(key)
        if got is None:
            if head == "sentiment":
                cols, values, _b = self.sentiment[lang]
                got = np.zeros((width, len(SENTIMENT_LABELS)), dtype=np.float64)
                got[cols] = values
            else:
                pcols, pvalues, _pb = self.provocation[lang]
                got = np.zeros((width, 1), dtype=np.float64)
                got[pcols, 0] = pvalues
            self._dense[key] = got
        return got

    def begin(self, n: int) -> Residual:
        """The hook for one batch of ``n`` scorable texts (``Scorer.score_batch``)."""
        return _Batch(self, n)

    def to_bytes(self) -> bytes:
        arrays: dict[str, Any] = {"base": np.array(self.base)}
        for lang, (cols, values, bias) in self.sentiment.items():
            arrays[f"s_{lang}_cols"] = cols.astype(np.int32)
            arrays[f"s_{lang}_w"] = values.astype(np.float32)
            arrays[f"s_{lang}_b"] = bias.astype(np.float32)
        for lang, (pcols, pvalues, pbias) in self.provocation.items():
            arrays[f"p_{lang}_cols"] = pcols.astype(np.int32)
            arrays[f"p_{lang}_w"] = pvalues.astype(np.float32)
            arrays[f"p_{lang}_b"] = np.float32(pbias)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, scorer: Scorer | None = None) -> Adapter:
        with np.load(io.BytesIO(bytes(data)), allow_pickle=False) as z:
            out = cls(base=str(z["base"]))
            for lang in MODEL_LANGS:
                if f"s_{lang}_cols" in z:
                    out.sentiment[lang] = (
                        z[f"s_{lang}_cols"].astype(np.int64),
                        z[f"s_{lang}_w"].astype(np.float64),
                        z[f"s_{lang}_b"].astype(np.float64),
                    )
                if f"p_{lang}_cols" in z:
                    out.provocation[lang] = (
                        z[f"p_{lang}_cols"].astype(np.int64),
                        z[f"p_{lang}_w"].astype(np.float64),
                        float(z[f"p_{lang}_b"]),
                    )
        if scorer is not None and out.base != fingerprint(scorer):
            raise AdapterMismatch("the weights were trained for other base models")
        return out


class Residual:
    """What ``Scorer.score_batch`` calls for one batch (``k`` indexes its scorable texts):
    ``set_languages`` with each text's language code, then ``sentiment_logits`` per base
    model, then ``provocation`` per text."""

    primary: list[str]

    def set_languages(self, codes: Sequence[str]) -> None:
        self.primary = [primary_lang(c) for c in codes]

    def sentiment_logits(
        self, lang: str, rows: Sequence[int], x: Rows, z: np.ndarray
    ) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def provocation(self, k: int, found: Provocation) -> Provocation:  # pragma: no cover
        raise NotImplementedError


class _Batch(Residual):
    def __init__(self, adapter: Adapter, n: int) -> None:
        self.adapter = adapter
        self.delta = np.zeros(n, dtype=np.float64)
        self.touched = np.zeros(n, dtype=bool)
        self.primary = []

    def sentiment_logits(
        self, lang: str, rows: Sequence[int], x: Rows, z: np.ndarray
    ) -> np.ndarray:
        a = self.adapter
        width = x.shape[1]
        if lang in a.sentiment:
            z = z + sparse_dot(x, a._weights("sentiment", lang, width)) + a.sentiment[lang][2]
        if lang in a.provocation:
            d = sparse_dot(x, a._weights("provocation", lang, width))[:, 0] + a.provocation[lang][2]
            for j, k in enumerate(rows):
                if self.primary[k] == lang:
                    self.delta[k] = d[j]
                    self.touched[k] = True
        return z

    def provocation(self, k: int, found: Provocation) -> Provocation:
        if not self.touched[k]:
            return found
        return found._replace(score=adjust_provocation(found.score, float(self.delta[k])))


def adjust_provocation(score: float, delta: float) -> float:
    """``sigmoid(logit(clip(score)) + delta)``, rounded as the lexicon score is."""
    if delta == 0.0:
        return score
    s = min(1.0 - EPS, max(EPS, score))
    logit = float(np.log(s / (1.0 - s))) + delta
    return float(round(1.0 / (1.0 + np.exp(-logit)), 4))


# --- recording the base scorer's view of labelled texts ----------------------------------------


@dataclass
class _Row:
    cols: np.ndarray
    vals: np.ndarray
    z: np.ndarray  # base logits of the primary model, before temperature


class _Recorder(Residual):
    """Records each text's primary-model feature row and logits, and its lexicon score."""

    def __init__(self) -> None:
        self.primary = []
        self.lexicon: dict[int, float] = {}
        self._seen: dict[tuple[str, int], _Row] = {}

    def sentiment_logits(
        self, lang: str, rows: Sequence[int], x: Rows, z: np.ndarray
    ) -> np.ndarray:
        for j, k in enumerate(rows):
            if self.primary[k] != lang:
                continue
            a, b = x.indptr[j], x.indptr[j + 1]
            cols = x.indices[a:b]
            vals = x.data[a:b]
            if x.dense.size:
                keep = x.dense[j] != 0
                cols = np.concatenate([cols, x.dense_cols[keep]])
                vals = np.concatenate([vals, x.dense[j][keep]])
            self._seen[(lang, k)] = _Row(cols.astype(np.int64), vals.astype(np.float64), z[j])
        return z

    def provocation(self, k: int, found: Provocation) -> Provocation:
        self.lexicon[k] = found.score
        return found


@dataclass
class Example:
    """One labelled text; either label may be missing."""

    text: str
    sentiment: str | None = None
    provocation: int | None = None
    lang: str | None = None
    id: Any = None


@dataclass
class Recorded:
    """The base scorer's view of examples: per example its primary model (``None``: not
    scorable), feature row, base logits, lexicon score, base sentiment and flag."""

    lang: list[str | None]
    rows: list[_Row | None]
    lexicon: list[float]
    base_sentiment: list[str | None]
    base_flag: list[bool]


def record(scorer: Scorer, examples: Sequence[Example], batch_size: int = 512) -> Recorded:
    out = Recorded([], [], [], [], [])
    for start in range(0, len(examples), batch_size):
        chunk = examples[start : start + batch_size]
        recorder = _Recorder()
        results = scorer.score_batch(
            [ScoreInput(text=e.text, lang=e.lang) for e in chunk], residual=recorder
        )
        k = 0
        for res in results:
            if not res.ok:
                out.lang.append(None)
                out.rows.append(None)
                out.lexicon.append(0.0)
                out.base_sentiment.append(None)
                out.base_flag.append(False)
                continue
            lang = primary_lang(res.language)
            out.lang.append(lang)
            out.rows.append(recorder._seen.get((lang, k)))
            out.lexicon.append(recorder.lexicon.get(k, res.provocation))
            out.base_sentiment.append(res.sentiment)
            out.base_flag.append(res.is_provocative)
            k += 1
    return out


# --- fitting -----------------------------------------------------------------------------------


@dataclass
class _Problem:
    """Rows over compact columns: CSR (``indptr``, ``cols``, ``vals``) with ``m`` columns,
    ``global_cols`` mapping them back, and per row the offset and the target."""

    indptr: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    m: int
    global_cols: np.ndarray
    offset: np.ndarray  # (n, C)
    target: np.ndarray  # (n, C) one-hot (softmax) or (n, 1) 0/1 (sigmoid)

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    def subset(self, idx: np.ndarray) -> _Problem:
        lengths = np.diff(self.indptr)[idx]
        indptr = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        take = np.concatenate(
            [np.arange(self.indptr[i], self.indptr[i + 1]) for i in idx] or [np.zeros(0, int)]
        ).astype(np.int64)
        return _Problem(
            indptr,
            self.cols[take],
            self.vals[take],
            self.m,
            self.global_cols,
            self.offset[idx],
            self.target[idx],
        )


def _problem(rows: list[_Row], offsets: np.ndarray, target: np.ndarray) -> _Problem:
    lengths = np.array([len(r.cols) for r in rows], dtype=np.int64)
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    cols = np.concatenate([r.cols for r in rows]) if rows else np.zeros(0, np.int64)
    vals = np.concatenate([r.vals for r in rows]) if rows else np.zeros(0)
    global_cols, compact = np.unique(cols, return_inverse=True)
    return _Problem(
        indptr, compact.astype(np.int64), vals, len(global_cols), global_cols, offsets, target
    )


def _matmul(p: _Problem, w: np.ndarray) -> np.ndarray:
    """X·w (n, C)."""
    out = np.zeros((p.n, w.shape[1]))
    if p.vals.size:
        contrib = w[p.cols] * p.vals[:, None]
        nonempty = np.diff(p.indptr) > 0
        out[nonempty] = np.add.reduceat(contrib, p.indptr[:-1][nonempty], axis=0)
    return out


def _rmatmul(p: _Problem, g: np.ndarray) -> np.ndarray:
    """Xᵀ·g (m, C)."""
    rows = np.repeat(np.arange(p.n), np.diff(p.indptr))
    out = np.zeros((p.m, g.shape[1]))
    for c in range(g.shape[1]):
        out[:, c] = np.bincount(p.cols, weights=p.vals * g[rows, c], minlength=p.m)
    return out


def _probs(u: np.ndarray, softmax: bool) -> np.ndarray:
    if softmax:
        e = np.exp(u - u.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return 1.0 / (1.0 + np.exp(-u))


def _fit(p: _Problem, lam: float, scale: float, softmax: bool) -> tuple[np.ndarray, np.ndarray]:
    """Minimise mean cross-entropy of ``(offset + X·W + b)·scale`` plus ``λ/2·(|W|² + |b|²)``
    by Nesterov-accelerated gradient descent with step ``1/L``; returns (W (m, C), b (C,))."""
    c = p.target.shape[1]
    sq: np.ndarray = np.zeros(p.n)
    if p.vals.size:
        rows = np.repeat(np.arange(p.n), np.diff(p.indptr))
        sq = np.bincount(rows, weights=p.vals * p.vals, minlength=p.n)
    curvature = 0.5 if softmax else 0.25
    lipschitz = curvature * scale * scale * float((sq + 1.0).mean()) + lam
    step = 1.0 / lipschitz
    w = np.zeros((p.m, c))
    b = np.zeros(c)
    yw, yb = w.copy(), b.copy()
    t = 1.0
    for _ in range(ITERATIONS):
        u = (p.offset + _matmul(p, yw) + yb) * scale
        g = (_probs(u, softmax) - p.target) * (scale / max(1, p.n))
        gw = _rmatmul(p, g) + lam * yw
        gb = g.sum(axis=0) + lam * yb
        w_next, b_next = yw - step * gw, yb - step * gb
        t_next = (1.0 + (1.0 + 4.0 * t * t) ** 0.5) / 2.0
        mom = (t - 1.0) / t_next
        yw = w_next + mom * (w_next - w)
        yb = b_next + mom * (b_next - b)
        w, b, t = w_next, b_next, t_next
    return w, b


def _predict(p: _Problem, w: np.ndarray, b: np.ndarray, softmax: bool) -> np.ndarray:
    u = p.offset + _matmul(p, w) + b
    if softmax:
        return u.argmax(axis=1)
    return (u[:, 0] >= 0).astype(np.int64)


@dataclass
class HeadReport:
    """Cross-validated figures of one head over all its labelled examples."""

    examples: int = 0
    base_correct: int = 0
    correct: int = 0  # cross-validated, with each language's layer only where it was kept
    kept: list[str] = field(default_factory=list)
    penalty: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        n = self.examples
        return {
            "examples": n,
            "base_accuracy": round(self.base_correct / n, 4) if n else None,
            "accuracy": round(self.correct / n, 4) if n else None,
            "live": bool(self.kept),
            "languages": sorted(self.kept),
            "penalty": self.penalty,
        }


@dataclass
class Trained:
    adapter: Adapter
    report: dict[str, HeadReport]

    @property
    def live(self) -> bool:
        return not self.adapter.empty

    def metrics(self) -> dict[str, Any]:
        return {head: r.as_dict() for head, r in self.report.items()}


def _folds(n: int) -> list[np.ndarray]:
    k = min(FOLDS, n)
    order = np.arange(n)
    return [order[order % k == f] for f in range(k)]


def _head(
    problem: _Problem, base_pred: np.ndarray, truth: np.ndarray, scale: float, softmax: bool
) -> tuple[float | None, int, int, tuple[np.ndarray, np.ndarray] | None]:
    """Chooses λ by k-fold CV; answers (λ, CV correct, base correct, fitted (W, b) or None when
    the layer does not reach the base model's accuracy)."""
    n = problem.n
    base_correct = int((base_pred == truth).sum())
    folds = _folds(n)
    best: tuple[int, float] | None = None
    for lam in LAMBDAS:
        correct = 0
        for held in folds:
            train_idx = np.setdiff1d(np.arange(n), held)
            w, b = _fit(problem.subset(train_idx), lam, scale, softmax)
            pred = _predict(problem.subset(held), w, b, softmax)
            correct += int((pred == truth[held]).sum())
        if best is None or correct > best[0]:
            best = (correct, lam)
    assert best is not None
    correct, lam = best
    if correct < base_correct:
        return None, base_correct, base_correct, None
    return lam, correct, base_correct, _fit(problem, lam, scale, softmax)


def train(scorer: Scorer, examples: Sequence[Example]) -> Trained:
    """The tenant layer learnt from ``examples`` (see the module docstring)."""
    seen = record(scorer, examples)
    adapter = Adapter(base=fingerprint(scorer))
    report = {head: HeadReport() for head in HEADS}
    for lang in MODEL_LANGS:
        model = scorer.sent[lang]
        scale = 1.0 / model.temperature
        # sentiment
        idx = [
            i
            for i, e in enumerate(examples)
            if e.sentiment in SENTIMENT_LABELS and seen.lang[i] == lang and seen.rows[i] is not None
        ]
        if idx:
            rows = _present(seen, idx)
            truth = np.array([SENTIMENT_LABELS.index(str(examples[i].sentiment)) for i in idx])
            base = np.array([SENTIMENT_LABELS.index(str(seen.base_sentiment[i])) for i in idx])
            _account(report["sentiment"], lang, len(idx), base, truth, None)
            if len(idx) >= MIN_EXAMPLES:
                target = np.eye(len(SENTIMENT_LABELS))[truth]
                prob = _problem(rows, np.array([r.z for r in rows]), target)
                lam, correct, base_correct, fitted = _head(prob, base, truth, scale, True)
                _account(report["sentiment"], lang, 0, None, None, (lam, correct - base_correct))
                if fitted is not None:
                    w, b = fitted
                    keep = np.abs(w).max(axis=1) > 1e-6
                    adapter.sentiment[lang] = (prob.global_cols[keep], w[keep], b)
        # provocation
        idx = [
            i
            for i, e in enumerate(examples)
            if e.provocation in (0, 1) and seen.lang[i] == lang and seen.rows[i] is not None
        ]
        if idx:
            rows = _present(seen, idx)
            truth = np.array([int(examples[i].provocation or 0) for i in idx])
            base = np.array([int(seen.base_flag[i]) for i in idx])
            _account(report["provocation"], lang, len(idx), base, truth, None)
            if len(idx) >= MIN_EXAMPLES:
                s = np.clip(np.array([seen.lexicon[i] for i in idx]), EPS, 1 - EPS)
                offsets = np.log(s / (1 - s))[:, None]
                prob = _problem(rows, offsets, truth[:, None].astype(np.float64))
                lam, correct, base_correct, fitted = _head(prob, base, truth, 1.0, False)
                _account(report["provocation"], lang, 0, None, None, (lam, correct - base_correct))
                if fitted is not None:
                    w, b = fitted
                    keep = np.abs(w[:, 0]) > 1e-6
                    adapter.provocation[lang] = (prob.global_cols[keep], w[keep, 0], float(b[0]))
    return Trained(adapter, report)


def _present(seen: Recorded, idx: list[int]) -> list[_Row]:
    rows = [seen.rows[i] for i in idx]
    return [r for r in rows if r is not None]


def _account(
    r: HeadReport,
    lang: str,
    n: int,
    base: np.ndarray | None,
    truth: np.ndarray | None,
    cv: tuple[float | None, int] | None,
) -> None:
    """Adds ``n`` examples (their base correctness counted as adapted too), or a CV outcome:
    (λ or None when not kept, CV correct minus base correct)."""
    if base is not None and truth is not None:
        r.examples += n
        good = int((base == truth).sum())
        r.base_correct += good
        r.correct += good
    if cv is not None:
        lam, gain = cv
        if lam is not None:
            r.kept.append(lang)
            r.penalty[lang] = lam
            r.correct += gain
