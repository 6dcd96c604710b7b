"""Step 3, sentiment: class probabilities (negative, neutral, positive) for a batch of texts.

The Indonesian model scores ``id`` and ``other`` posts, the English model ``en`` posts; a
code-mixed Indonesian post blends in the English model (on its English normalisation) with
weight ``0.5 * english_share`` (docs/scoring.md, "How it works" 4). Each model declares the slang
normalisation it was trained with (``SentimentModel.normalisation``); a post's tokens are
re-normalised for the model when they differ. The models are :class:`features.SentimentModel`:
one batched base feature matrix per model, one final linear layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .adapt import Residual
from .features import SentimentModel, softmax
from .language import LanguageGuess
from .normalize import Form, NormToken, Resources, normalise_forms


def _norm_code(guess: LanguageGuess) -> str:
    """The slang normalisation the scorer applied to a post of this language."""
    return "raw" if guess.code == "other" else guess.code


def sentiment_probabilities(
    models: Mapping[str, SentimentModel],
    res: Resources,
    raw: Sequence[list[Form]],
    norm: Sequence[list[NormToken]],
    languages: Sequence[LanguageGuess],
    residual: Residual | None = None,
) -> np.ndarray:
    """Shape (len(languages), 3); ``norm`` is each text normalised for its own language.
    ``residual``: a tenant's layer for this batch (``adapt.Residual``), added to each base
    model's logits before the softmax."""
    n = len(languages)
    if residual is not None:
        residual.set_languages([g.code for g in languages])
    probs = np.zeros((n, 3), dtype=np.float32)
    for model_lang in ("id", "en"):
        model = models[model_lang]
        sel = [
            k
            for k in range(n)
            if (
                languages[k].code == model_lang
                or (model_lang == "id" and languages[k].code == "other")
            )
            or (model_lang == "en" and languages[k].english_share > 0)
        ]
        if not sel:
            continue
        wanted = model.normalisation
        if model_lang == "en":
            texts = [
                norm[k]
                if languages[k].code == "en" and wanted == "en"
                else normalise_forms(raw[k], res, wanted)
                for k in sel
            ]
        else:
            texts = [
                norm[k]
                if _norm_code(languages[k]) == wanted
                else normalise_forms(raw[k], res, wanted)
                for k in sel
            ]
        if residual is None:
            p = model.predict(texts)
        else:
            x = model.base_features(texts)
            z = residual.sentiment_logits(model_lang, sel, x, model.base_scores(x))
            p = softmax(z / model.temperature)
        for row, k in zip(p, sel, strict=True):
            if model_lang == "en" and languages[k].code == "id":
                w = 0.5 * languages[k].english_share
                probs[k] = (1 - w) * probs[k] + w * row
            else:
                probs[k] = row
    return probs
