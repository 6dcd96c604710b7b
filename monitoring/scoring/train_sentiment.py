"""Training of the block-feature sentiment models (called by ``train.py``; needs scikit-learn).

A model = multinomial logistic regression (class-balanced) blended with an NB-weighted
one-vs-rest logistic regression (NBSVM-style log-count ratios, class-balanced), both over the same
base feature matrix (:func:`features.block_matrix`). The NB model folds into a weight matrix over
the base features (``r_c * w_c``), so the blend ``beta * W_lr + (1 - beta) * W_nb`` is one final
linear layer. Hyper-parameters (C of each part, beta) come from k-fold cross-validation on train
(vocabulary and IDF rebuilt inside each fold); the English model is also checked on a
time-shifted split (older tweets train, newer validate). Never on a test split.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .features import (
    VALENCE_FEATURES,
    BlockConfig,
    BlockFeaturizer,
    Encoded,
    block_matrix,
    block_of,
)
from .normalize import Resources, normalise, tokenize

SEED = 1234


def featurize(texts: Sequence[str], fz: BlockFeaturizer, lang: str) -> list[Encoded]:
    return [fz.features(normalise(tokenize(t), fz.res, lang)) for t in texts]


@dataclass
class Space:
    """A vocabulary built from training texts, and the matrices built with it."""

    vocab: list[str]
    idf: np.ndarray
    blocks: np.ndarray
    index: dict[str, int]
    cfg: BlockConfig

    @classmethod
    def build(cls, train: Sequence[Encoded], cfg: BlockConfig, min_df: int = 2) -> Space:
        df: Counter[str] = Counter()
        for e in train:
            df.update(set(e.items))
        vocab = sorted(f for f, c in df.items() if c >= min_df)
        if cfg.valence:
            vocab += list(VALENCE_FEATURES)
        n = len(train)
        idf = np.array(
            [1.0 if f in VALENCE_FEATURES else math.log((1 + n) / (1 + df[f])) + 1.0 for f in vocab]
        )
        blocks = np.array([block_of(f) for f in vocab], dtype=np.int64)
        return cls(vocab, idf, blocks, {f: i for i, f in enumerate(vocab)}, cfg)

    def matrix(self, encoded: Sequence[Encoded]):
        index = self.index
        ids = [Encoded([index[f] for f in e.items if f in index], e.pos, e.neg) for e in encoded]
        valence = (
            (index[VALENCE_FEATURES[0]], index[VALENCE_FEATURES[1]]) if self.cfg.valence else None
        )
        return block_matrix(
            ids, self.idf, self.blocks, valence, self.cfg.sublinear, self.cfg.block_norm
        ).to_scipy()


def fit_lr(x, y: np.ndarray, c: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial class-balanced LR: (W (F, C), b (C,))."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(
        C=c, max_iter=3000, class_weight="balanced", random_state=SEED, tol=1e-4
    )
    clf.fit(x, y)
    return clf.coef_.T.copy(), clf.intercept_.copy()


def fit_nblr(
    x, y: np.ndarray, c: float, k: int, alpha: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """NB-weighted one-vs-rest LR folded over the base features: (W (F, C), b (C,))."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    binary = (x > 0).astype(np.float64)
    weights = np.zeros((x.shape[1], k))
    bias = np.zeros(k)
    for cls in range(k):
        yes = y == cls
        p = alpha + np.asarray(binary[yes].sum(axis=0)).ravel()
        q = alpha + np.asarray(binary[~yes].sum(axis=0)).ravel()
        r = np.log((p / p.sum()) / (q / q.sum()))
        clf = LogisticRegression(
            C=c, max_iter=3000, class_weight="balanced", random_state=SEED, tol=1e-4
        )
        clf.fit(x @ sparse.diags(r), yes.astype(int))
        weights[:, cls] = r * clf.coef_[0]
        bias[cls] = clf.intercept_[0]
    return weights, bias


def balanced_macro_f1(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    counts = np.bincount(y, minlength=k).astype(np.float64)
    cm = np.zeros((k, k))
    np.add.at(cm, (y, pred), (len(y) / (k * np.maximum(counts, 1)))[y])
    tp = np.diag(cm)
    rec = tp / np.maximum(cm.sum(axis=1), 1e-12)
    prec = tp / np.maximum(cm.sum(axis=0), 1e-12)
    f1 = np.where(prec + rec > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-12), 0.0)
    return round(100 * float(f1.mean()), 2)


def scores(y: np.ndarray, pred: np.ndarray, k: int) -> dict[str, float]:
    cm = np.zeros((k, k))
    np.add.at(cm, (y, pred), 1)
    tp = np.diag(cm)
    rec = tp / np.maximum(cm.sum(axis=1), 1e-12)
    prec = tp / np.maximum(cm.sum(axis=0), 1e-12)
    f1 = np.where(prec + rec > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-12), 0.0)
    return {
        "macro_f1": round(100 * float(f1.mean()), 2),
        "macro_recall": round(100 * float(rec.mean()), 2),
        "accuracy": round(100 * float(tp.sum() / max(len(y), 1)), 2),
        "balanced_macro_f1": balanced_macro_f1(y, pred, k),
    }


@dataclass(frozen=True)
class Candidate:
    c_lr: float
    c_nb: float
    beta: float  # weight of the LR part in the blend

    def name(self) -> str:
        return f"C_lr={self.c_lr} C_nb={self.c_nb} beta={self.beta}"


def evaluate_grid(
    train_enc: Sequence[Encoded],
    ytr: np.ndarray,
    test_enc: Sequence[Encoded],
    yte: np.ndarray,
    cfg: BlockConfig,
    c_lrs: Sequence[float],
    c_nbs: Sequence[float],
    betas: Sequence[float],
    k: int,
    keep: dict | None = None,
) -> dict[Candidate, np.ndarray]:
    """Logits of every candidate on ``test_enc`` (trained on ``train_enc``); ``keep``, when
    given, receives each candidate's (space, weights, bias)."""
    space = Space.build(train_enc, cfg)
    xa, xb = space.matrix(train_enc), space.matrix(test_enc)
    lr = {c: fit_lr(xa, ytr, c, k) for c in c_lrs}
    nb = {c: fit_nblr(xa, ytr, c, k) for c in c_nbs} if any(b < 1 for b in betas) else {}
    out = {}
    for c1, (w1, b1) in lr.items():
        for beta in betas:
            for c2 in c_nbs if beta < 1 else c_nbs[:1]:
                if beta < 1:
                    w2, b2 = nb[c2]
                    w, b = beta * w1 + (1 - beta) * w2, beta * b1 + (1 - beta) * b2
                else:
                    w, b = w1, b1
                cand = Candidate(c1, c2 if beta < 1 else 0.0, beta)
                out[cand] = np.asarray(xb @ w) + b
                if keep is not None:
                    keep[cand] = (space, w, b)
    return out


def cross_validate(
    enc: Sequence[Encoded],
    y: np.ndarray,
    cfg: BlockConfig,
    c_lrs: Sequence[float],
    c_nbs: Sequence[float],
    betas: Sequence[float],
    k: int,
    folds: int = 5,
) -> dict[Candidate, dict[str, float]]:
    """Out-of-fold figures of every candidate (stratified ``folds``-fold CV, seed 1234)."""
    from sklearn.model_selection import StratifiedKFold

    pred: dict[Candidate, np.ndarray] = {}
    splitter = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    for a, b in splitter.split(np.zeros(len(y)), y):
        got = evaluate_grid(
            [enc[i] for i in a], y[a], [enc[i] for i in b], y[b], cfg, c_lrs, c_nbs, betas, k
        )
        for cand, logits in got.items():
            pred.setdefault(cand, np.zeros(len(y), dtype=np.int64))[b] = logits.argmax(axis=1)
    return {cand: scores(y, p, k) for cand, p in pred.items()}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def time_shift_split(n: int, newer_share: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Older rows train, the newest ``newer_share`` validate (rows are in time order)."""
    cut = int(n * (1 - newer_share))
    return np.arange(cut), np.arange(cut, n)


@dataclass
class Trained:
    space: Space
    weights: np.ndarray  # (F, C)
    bias: np.ndarray
    candidate: Candidate
    figures: dict


def select_and_fit(
    name: str,
    train: tuple[list[str], list[str]],
    valid: tuple[list[str], list[str]],
    labels: list[str],
    res: Resources,
    cfg: BlockConfig,
    normalisation: str,
    grid: tuple[Sequence[float], Sequence[float], Sequence[float]],
    metric: str,
    folds: int = 0,
    time_shift: bool = False,
    tie: float = 0.1,
) -> Trained:
    """Choose a candidate from ``grid`` (C_lr values, C_nb values, betas) by ``metric`` on
    ``folds``-fold CV of train (or, with ``folds=0``, on the time-shifted split of train), ties
    within ``tie`` points broken on the validation split; then fit it on all of train."""
    lab = {x: i for i, x in enumerate(labels)}
    k = len(labels)
    fz = BlockFeaturizer(res, cfg)
    enc = featurize(train[0], fz, normalisation)
    venc = featurize(valid[0], fz, normalisation)
    y = np.array([lab[x] for x in train[1]])
    yv = np.array([lab[x] for x in valid[1]])
    c_lrs, c_nbs, betas = grid
    figures: dict = {}
    primary: dict[Candidate, float] | None = None
    if folds:
        cv = cross_validate(enc, y, cfg, c_lrs, c_nbs, betas, k, folds)
        for cand, s in cv.items():
            log(f"  {name} {cand.name()}: {folds}-fold CV {s}")
        figures["cv"] = {cand.name(): s for cand, s in cv.items()}
        primary = {cand: s[metric] for cand, s in cv.items()}
    if time_shift:
        a, b = time_shift_split(len(y))
        got = evaluate_grid(
            [enc[i] for i in a], y[a], [enc[i] for i in b], y[b], cfg, c_lrs, c_nbs, betas, k
        )
        ts = {cand: scores(y[b], logits.argmax(axis=1), k) for cand, logits in got.items()}
        for cand, s in ts.items():
            log(f"  {name} {cand.name()}: time-shifted {s}")
        figures["time_shift"] = {cand.name(): s for cand, s in ts.items()}
        if not folds:
            primary = {cand: s[metric] for cand, s in ts.items()}
    fitted: dict[Candidate, tuple[Space, np.ndarray, np.ndarray]] = {}
    got = evaluate_grid(enc, y, venc, yv, cfg, c_lrs, c_nbs, betas, k, keep=fitted)
    val = {cand: scores(yv, logits.argmax(axis=1), k) for cand, logits in got.items()}
    for cand, s in val.items():
        log(f"  {name} {cand.name()}: validation {s}")
    figures["validation"] = {cand.name(): s for cand, s in val.items()}
    if primary is None:
        primary = {cand: s[metric] for cand, s in val.items()}
    best = max(primary.values())
    tied = [cand for cand, v in primary.items() if v >= best - tie]
    chosen = max(tied, key=lambda cand: val[cand][metric])
    log(f"  {name}: chosen {chosen.name()}")
    space, w, b = fitted[chosen]  # fitted on all of train by the validation pass
    figures["chosen"] = chosen.name()
    return Trained(space, w, b, chosen, figures)
