"""Classification metrics without scikit-learn (used by training and benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence


def evaluate(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict:
    idx = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    cm = [[0] * k for _ in range(k)]
    for g, p in zip(gold, pred, strict=True):
        cm[idx[g]][idx[p]] += 1
    f1s, recalls = [], []
    for i in range(k):
        tp = cm[i][i]
        support = sum(cm[i])
        predicted = sum(cm[r][i] for r in range(k))
        recall = tp / support if support else 0.0
        precision = tp / predicted if predicted else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        recalls.append(recall)
    n = len(gold)
    return {
        "n": n,
        "macro_f1": round(100 * sum(f1s) / k, 2),
        "accuracy": round(100 * sum(cm[i][i] for i in range(k)) / n, 2) if n else 0.0,
        "macro_recall": round(100 * sum(recalls) / k, 2),
        "labels": list(labels),
        "confusion": cm,
    }
