"""The scoring engine: one :class:`Scorer` per process, scoring batches of texts.

:meth:`Scorer.score_batch` runs the named steps in order, each in its own module:

0. check the input (:mod:`.textcheck`): unusable items get an ``error`` and the batch goes on;
1. normalise (:mod:`.normalize`): tokens with offsets, then language-independent word forms;
2. language (:mod:`.language`): code and confidence;
3. sentiment (:mod:`.sentiment`): probabilities, on the text normalised for its language;
4. provocation (:mod:`.provocation`): score and evidence, from the lexicon matches;
5. triggers (:mod:`.triggers`): crisis labels and evidence, from the same matches;
6. entities (:mod:`.entities`): from the tokens, plus the tenant's terms;
7. risk (:mod:`.risk`): 0-100 from the above and the author's reach and engagement.

Steps 1-3 and the tenant-term matching run over the whole batch (vectorised models, one
``nlp.pipe``); steps 4-7 per text. Lexicons compiled with a tenant's extensions are cached.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from operator import attrgetter
from pathlib import Path

from .adapt import Adapter, Residual
from .entities import TermMatcher, token_entities
from .features import SentimentModel
from .language import LanguageDetector
from .lexicon import Phrase, PhraseIndex, builtin_phrases, tenant_phrases
from .lifetime import settle
from .linear import Featurizer, LinearModel
from .normalize import Form, Resources, Token, normalise_forms, tokens_and_forms
from .provocation import score_provocation
from .risk import risk_score
from .schema import SCORER_VERSION, SENTIMENT_LABELS, ScoreInput, ScoreResult, TenantExtensions
from .sentiment import sentiment_probabilities
from .textcheck import MAX_TEXT_BYTES, ScoringError, check_text
from .triggers import crisis_triggers

__all__ = [
    "MAX_TEXT_BYTES",
    "MODELS_DIR",
    "Scorer",
    "ScoringError",
    "check_text",
    "get_scorer",
    "score_texts",
]

MODELS_DIR = Path(__file__).resolve().parent / "models"
_BY_SPAN = attrgetter("start", "end")  # entities in text order


class _Compiled:
    """Lexicons compiled for one set of tenant extensions."""

    def __init__(self, base: list[Phrase], res: Resources, ext: TenantExtensions | None) -> None:
        phrases = list(base)
        self.domains: tuple[str, ...] = ()
        self.terms: tuple[tuple[str, str], ...] = ()
        if ext is not None:
            phrases += tenant_phrases(ext.lexicon, res)
            self.domains = ext.low_credibility_domains
            self.terms = ext.terms
        self.index = PhraseIndex(phrases)


class Scorer:
    """Loads models and lexicons once; :meth:`score_batch` scores many texts at a time."""

    version = SCORER_VERSION

    def __init__(self, models_dir: Path = MODELS_DIR) -> None:
        self.res = Resources()
        self.sent = {
            "id": SentimentModel(models_dir / "sentiment_id.npz", self.res),
            "en": SentimentModel(models_dir / "sentiment_en.npz", self.res),
        }
        self.lang_model = LinearModel(models_dir / "langid.npz")
        for m in self.sent.values():
            assert tuple(m.labels) == SENTIMENT_LABELS, m.labels
        self.lang_model.bind(Featurizer(self.res, self.lang_model.config))
        self.languages = LanguageDetector(self.lang_model, self.res.stopwords)
        self._base_phrases = builtin_phrases(self.res)
        self._compiled = lru_cache(maxsize=64)(self._compile)
        self._terms = TermMatcher()

    def _compile(self, ext: TenantExtensions | None) -> _Compiled:
        return _Compiled(self._base_phrases, self.res, ext)

    def score_batch(
        self,
        items: Sequence[ScoreInput | str],
        extensions: TenantExtensions | None = None,
        adapter: Adapter | None = None,
        residual: Residual | None = None,
    ) -> list[ScoreResult]:
        """``adapter``: a tenant's layer (``adapt.Adapter``), or ``residual`` one batch's hook
        (training records the base view through it)."""
        inputs = [it if isinstance(it, ScoreInput) else ScoreInput(text=it) for it in items]
        results: list[ScoreResult] = [ScoreResult(id=it.id) for it in inputs]
        # 0. input check: ``todo`` are the indices of the scorable inputs, ``texts`` their texts
        todo: list[int] = []
        texts: list[str] = []
        for i, it in enumerate(inputs):
            try:
                texts.append(check_text(it.text))
                todo.append(i)
            except ScoringError as exc:
                results[i].error = {"code": exc.code, "message": exc.message}
        if not todo:
            return results
        res = self.res
        compiled = self._compiled(extensions)
        # 1. normalise, the language-independent pass
        tokens: list[list[Token]] = []
        raw: list[list[Form]] = []
        for t in texts:
            toks, fs = tokens_and_forms(t, res)
            tokens.append(toks)
            raw.append(fs)
        # 2. language
        languages = self.languages.detect(texts, raw, [inputs[i].lang for i in todo])
        # 3. sentiment, on each text normalised for its language ("other": no slang mapping)
        norm = [
            normalise_forms(fs, res, "raw" if guess.code == "other" else guess.code)
            for fs, guess in zip(raw, languages, strict=True)
        ]
        if residual is None and adapter is not None and not adapter.empty:
            residual = adapter.begin(len(todo))
        probs = sentiment_probabilities(self.sent, res, raw, norm, languages, residual).tolist()
        term_hits = self._terms.match(texts, compiled.terms)  # 6, batched: tenant terms
        for k, i in enumerate(todo):
            r = results[i]
            text = texts[k]
            r.language, r.language_confidence = languages[k].code, languages[k].confidence
            p = probs[k]  # Python floats: the float32 probabilities, exactly
            r.probabilities = dict(zip(SENTIMENT_LABELS, p, strict=True))
            r.sentiment = SENTIMENT_LABELS[p.index(max(p))]  # the first largest, as argmax
            matches = compiled.index.match(norm[k])  # lexicon phrases, for steps 4 and 5
            # 4. provocation
            provocation = score_provocation(
                text, tokens[k], norm[k], matches, res.emoji_provocation, p[0]
            )
            if residual is not None:
                provocation = residual.provocation(k, provocation)
            r.provocation = provocation.score
            r.provocation_evidence = provocation.evidence
            # 5. triggers
            r.triggers = crisis_triggers(text, tokens[k], matches, compiled.domains, provocation)
            # 6. entities
            entities = token_entities(tokens[k]) + term_hits[k]
            entities.sort(key=_BY_SPAN)
            r.entities = entities
            # 7. risk
            it = inputs[i]
            r.risk = risk_score(
                r.probabilities["negative"],
                r.provocation,
                r.triggers.keys(),
                it.author_followers,
                it.engagement,
                it.author_verified,
            )
        return results

    def score(
        self,
        text: str | ScoreInput,
        extensions: TenantExtensions | None = None,
        adapter: Adapter | None = None,
    ):
        return self.score_batch([text], extensions, adapter)[0]


_SCORER: Scorer | None = None
_SCORER_LOCK = threading.Lock()


def get_scorer() -> Scorer:
    """The process-wide scorer (models load once, on first use; then :func:`settle`)."""
    global _SCORER
    if _SCORER is None:
        with _SCORER_LOCK:
            if _SCORER is None:
                _SCORER = Scorer()
                settle()
    return _SCORER


def score_texts(texts: Iterable[str], extensions: TenantExtensions | None = None):
    return get_scorer().score_batch(list(texts), extensions)
