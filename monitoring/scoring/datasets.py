"""Locate and read the shared training/validation datasets (never copied into the repo).

The datasets live in ``<repo>/../shared/datasets``; set ``SIGAP_DATASETS`` to override.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SMSA_LABELS = ("negative", "neutral", "positive")


def datasets_dir() -> Path:
    env = os.environ.get("SIGAP_DATASETS")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "datasets")


def load_smsa(split: str) -> tuple[list[str], list[str]]:
    """``split`` is ``train`` or ``valid``; returns (texts, labels)."""
    path = datasets_dir() / "smsa" / f"{split}_preprocess.tsv"
    texts, labels = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            text, label = line.rsplit("\t", 1)
            texts.append(text)
            labels.append(label)
    return texts, labels


def load_tweeteval(split: str) -> tuple[list[str], list[str]]:
    """``split`` is ``train`` or ``val``; returns (texts, labels) with label names."""
    base = datasets_dir() / "tweeteval-sentiment"
    mapping = {}
    for line in (base / "mapping.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            k, v = line.split("\t")
            mapping[k.strip()] = v.strip()
    texts = (base / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")
    labels = (base / f"{split}_labels.txt").read_text(encoding="utf-8").split("\n")
    labels = [mapping[x.strip()] for x in labels if x.strip()]
    texts = texts[: len(labels)]
    texts = [t.replace("\\u002c", ",").replace("\\u2019", "\u2019") for t in texts]
    return texts, labels
