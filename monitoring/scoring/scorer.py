"""The scoring engine: one :class:`Scorer` per process, scoring batches of texts."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from .lexicon import Phrase, PhraseIndex, builtin_phrases, tenant_phrases
from .linear import Featurizer, LinearModel
from .normalize import Form, NormToken, Resources, Token, forms, normalise_forms, tokenize
from .risk import risk_score
from .schema import (
    SCORER_VERSION,
    SENTIMENT_LABELS,
    Entity,
    Evidence,
    ScoreInput,
    ScoreResult,
    TenantExtensions,
)

MODELS_DIR = Path(__file__).resolve().parent / "models"
MAX_TEXT_BYTES = 100_000
_BAD_CHARS = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_ASCII_LETTER = re.compile("[A-Za-z]")

SECOND_PERSON = frozenset(
    {
        "kamu",
        "kau",
        "engkau",
        "kalian",
        "anda",
        "lo",
        "lu",
        "elu",
        "you",
        "your",
        "dia",
        "mereka",
        "lho",
    }
)
GROUP_TARGETS = frozenset(
    {
        "cina",
        "china",
        "tionghoa",
        "arab",
        "yahudi",
        "kristen",
        "katolik",
        "islam",
        "muslim",
        "hindu",
        "buddha",
        "jawa",
        "batak",
        "madura",
        "papua",
        "ambon",
        "pribumi",
        "keturunan",
        "syiah",
        "ahmadiyah",
        "lgbt",
        "homo",
        "gay",
        "perempuan",
        "wanita",
        "cewek",
        "jews",
        "jewish",
        "muslims",
        "blacks",
        "immigrants",
        "women",
        "christians",
        "chinese",
        "asians",
        "mexicans",
        "gays",
    }
)
ABUSIVE_REASONS = frozenset({"insult", "profanity", "slur"})


class ScoringError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_text(text: Any) -> str:
    """Return the text to score, or raise :class:`ScoringError` for unusable input."""
    if text is None:
        raise ScoringError("missing_text", "no text given")
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ScoringError(
                "invalid_encoding", f"text is not valid UTF-8: {exc.reason}"
            ) from exc
    if not isinstance(text, str):
        raise ScoringError("invalid_text", f"text must be a string, got {type(text).__name__}")
    if len(text) > MAX_TEXT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise ScoringError("text_too_large", f"text is larger than {MAX_TEXT_BYTES} bytes")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ScoringError("invalid_encoding", "text contains unpaired surrogates") from exc
    if "\x00" in text:
        raise ScoringError("binary_content", "text contains NUL bytes (binary data)")
    if _BAD_CHARS.search(text):
        bad = len(_BAD_CHARS.findall(text))
        if bad > 8 and bad / len(text) > 0.1:
            raise ScoringError("binary_content", "text looks like binary or mis-decoded data")
    return text


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
            "id": LinearModel(models_dir / "sentiment_id.npz"),
            "en": LinearModel(models_dir / "sentiment_en.npz"),
        }
        self.lang_model = LinearModel(models_dir / "langid.npz")
        for m in self.sent.values():
            assert tuple(m.labels) == SENTIMENT_LABELS, m.labels
        for m in (*self.sent.values(), self.lang_model):
            m.bind(Featurizer(self.res, m.config))
        self._base_phrases = builtin_phrases(self.res)
        self._compiled = lru_cache(maxsize=64)(self._compile)
        self._nlp: Any = None
        self._lock = threading.Lock()

    # -- tenant extensions ---------------------------------------------------------------------

    def _compile(self, ext: TenantExtensions | None) -> _Compiled:
        return _Compiled(self._base_phrases, self.res, ext)

    def _spacy(self):  # lazily: only tenant terms need spaCy
        if self._nlp is None:
            import spacy

            self._nlp = spacy.blank("xx")
        return self._nlp

    @lru_cache(maxsize=64)  # noqa: B019 - one Scorer per process
    def _term_matcher(self, terms: tuple[tuple[str, str], ...]):
        from spacy.matcher import PhraseMatcher

        nlp = self._spacy()
        matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        kinds: dict[str, str] = {}
        for i, (text, kind) in enumerate(terms):
            key = f"term{i}"
            kinds[key] = kind
            matcher.add(key, [nlp.make_doc(text)])
        return matcher, kinds

    # -- language ------------------------------------------------------------------------------

    def _lang_rules(self, text: str, raw: list[Form], p_id: float) -> tuple[str, float, int, int]:
        """Return (code, confidence, id function words, en function words)."""
        letters = 0
        non_latin = 0
        if text.isascii():
            letters = 1 if _ASCII_LETTER.search(text) else 0
        else:
            for c in text:
                if c.isalpha():
                    letters += 1
                    if ord(c) > 0x24F:
                        non_latin += 1
        if letters == 0:
            return "other", 0.5, 0, 0
        if non_latin / letters > 0.5:
            return "other", round(min(1.0, 0.5 + non_latin / letters / 2), 3), 0, 0
        sw = self.res.stopwords
        ids = sw["id"]
        ens = sw["en"]
        n_id = n_en = n_other = n_words = 0
        for w, _s, _e, kind in raw:
            if kind != "word":
                continue
            n_words += 1
            in_id = w in ids
            in_en = w in ens
            if in_id and not in_en:
                n_id += 1
            elif in_en and not in_id:
                n_en += 1
            elif not in_id and not in_en:
                for code in ("es", "fr", "de", "pt", "tl"):
                    if w in sw[code]:
                        n_other += 1
                        break
        if n_other >= 2 and n_other > 1.5 * (n_id + n_en):
            return "other", round(min(0.95, 0.5 + n_other / max(1, n_words)), 3), n_id, n_en
        if n_id and n_en:  # code-mixed: Indonesian unless mostly English
            share_en = n_en / (n_id + n_en)
            if share_en <= 0.66:
                return "id", round(max(p_id, 1 - share_en), 3), n_id, n_en
            return "en", round(max(1 - p_id, share_en), 3), n_id, n_en
        if p_id >= 0.5:
            return "id", round(p_id, 3), n_id, n_en
        return "en", round(1 - p_id, 3), n_id, n_en

    # -- scoring -------------------------------------------------------------------------------

    def score_batch(
        self,
        items: Sequence[ScoreInput | str],
        extensions: TenantExtensions | None = None,
    ) -> list[ScoreResult]:
        inputs = [it if isinstance(it, ScoreInput) else ScoreInput(text=it) for it in items]
        results: list[ScoreResult] = [ScoreResult(id=it.id) for it in inputs]
        compiled = self._compiled(extensions)
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
        tokens = [tokenize(t) for t in texts]
        raw = [forms(toks, res) for toks in tokens]
        word_ids = self.lang_model._word_ids
        lang_ids = [
            [i for f in fs if f[3] == "word" or f[3] == "hashtag" for i in word_ids(f[0])]
            for fs in raw
        ]
        p_lang = self.lang_model.predict_ids(lang_ids)
        id_col = self.lang_model.labels.index("id")
        langs: list[str] = []
        mix: list[float] = []
        for k, i in enumerate(todo):
            code, conf, n_id, n_en = self._lang_rules(texts[k], raw[k], float(p_lang[k, id_col]))
            hint = (inputs[i].lang or "").lower()[:2]
            if hint in ("id", "en") and code != "other":
                code, conf = hint, 1.0
            results[i].language = code
            results[i].language_confidence = conf
            langs.append(code)
            mix.append(n_en / (n_id + n_en) if code == "id" and n_en else 0.0)
        # sentiment: Indonesian model for id/other, English model for en; code-mixed posts blend
        norm: list[list[NormToken]] = []
        for k in range(len(todo)):
            lang = langs[k]
            norm.append(normalise_forms(raw[k], res, "raw" if lang == "other" else lang))
        probs = np.zeros((len(todo), 3), dtype=np.float32)
        for model_lang in ("id", "en"):
            model = self.sent[model_lang]
            sel = [
                k
                for k in range(len(todo))
                if (langs[k] == model_lang or (model_lang == "id" and langs[k] == "other"))
                or (model_lang == "en" and mix[k] > 0)
            ]
            if not sel:
                continue
            if model_lang == "en":
                feats = [
                    model.encode(
                        norm[k] if langs[k] == "en" else normalise_forms(raw[k], res, "en")
                    )
                    for k in sel
                ]
            else:
                feats = [model.encode(norm[k]) for k in sel]
            p = model.predict_ids(feats)
            for row, k in zip(p, sel, strict=True):
                if model_lang == "en" and langs[k] == "id":
                    w = 0.5 * mix[k]
                    probs[k] = (1 - w) * probs[k] + w * row
                else:
                    probs[k] = row
        # tenant terms via spaCy PhraseMatcher over nlp.pipe
        term_hits: list[list[Entity]] = [[] for _ in todo]
        if compiled.terms:
            matcher, kinds = self._term_matcher(compiled.terms)
            nlp = self._spacy()
            with self._lock:
                for k, doc in enumerate(nlp.pipe(texts, batch_size=256)):
                    for match_id, s, e in matcher(doc):
                        span = doc[s:e]
                        key = nlp.vocab.strings[match_id]
                        term_hits[k].append(
                            Entity("term", span.text, span.start_char, span.end_char, kinds[key])
                        )
        for k, i in enumerate(todo):
            r = results[i]
            p = probs[k]
            r.probabilities = {lab: float(p[j]) for j, lab in enumerate(SENTIMENT_LABELS)}
            r.sentiment = SENTIMENT_LABELS[int(p.argmax())]
            self._lexical(r, texts[k], tokens[k], norm[k], compiled, float(p[0]))
            ents = self._entities(texts[k], tokens[k]) + term_hits[k]
            ents.sort(key=lambda e: (e.start, e.end))
            r.entities = ents
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

    def score(self, text: str | ScoreInput, extensions: TenantExtensions | None = None):
        return self.score_batch([text], extensions)[0]

    def _lexical(
        self,
        r: ScoreResult,
        text: str,
        tokens: list[Token],
        toks: list[NormToken],
        compiled: _Compiled,
        p_neg: float,
    ) -> None:
        prov: list[tuple[Evidence, float]] = []
        triggers: dict[str, list[Evidence]] = {}
        seen: set[tuple[str, int, int]] = set()
        matches = compiled.index.match(toks)
        safe = [(s, e) for phrase, s, e, _ in matches if phrase.reason == "safe"]
        weights: dict[tuple[str, ...], float] = {}
        for phrase, s, e, negated in matches:
            if phrase.reason == "safe":
                continue
            if safe and phrase.label == "provocation" and any(a <= s and e <= b for a, b in safe):
                continue
            key = (phrase.label, s, e)
            if key in seen:
                continue
            seen.add(key)
            ev = Evidence(s, e, text[s:e], phrase.reason)
            if phrase.label == "provocation":
                if negated and phrase.reason == "incitement":
                    continue  # "jangan boikot"
                # a repeated phrase counts once (its evidence is still reported)
                w = 0.0 if phrase.tokens in weights else phrase.weight
                weights[phrase.tokens] = phrase.weight
                prov.append((ev, w))
            else:
                if negated and phrase.label == "negative_perception":
                    continue  # "tidak mahal", "tidak kecewa"
                triggers.setdefault(phrase.label, []).append(ev)
        for t in tokens:
            if t.kind == "emoji":
                emoji_weight = self.res.emoji_provocation.get(t.text)
                if emoji_weight:
                    prov.append((Evidence(t.start, t.end, t.text, "emoji"), emoji_weight))
            elif t.kind == "url" and compiled.domains:
                dom = _domain(t.text)
                if dom and any(dom == d or dom.endswith("." + d) for d in compiled.domains):
                    triggers.setdefault("hoax", []).append(
                        Evidence(t.start, t.end, t.text, "low_credibility_domain")
                    )
        score = 0.0
        if prov:
            keep = 1.0
            for _, w in prov:
                keep *= 1.0 - w
            abusive = any(ev.reason in ABUSIVE_REASONS for ev, _ in prov)
            if abusive:
                for nt in toks:
                    if nt.norm in SECOND_PERSON:
                        keep *= 0.75
                        break
                for nt in toks:
                    if nt.norm in GROUP_TARGETS:
                        keep *= 0.8
                        prov.append(
                            (Evidence(t.start, t.end, text[t.start : t.end], "targets_group"), 0.0)
                        )
                        break
                letters = [c for c in text if c.isalpha()]
                if len(letters) >= 10 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
                    keep *= 0.9
            keep *= 1.0 - 0.15 * p_neg
            score = 1.0 - keep
        r.provocation = float(round(min(1.0, score), 4))
        r.provocation_evidence = sorted((ev for ev, _ in prov), key=lambda e: (e.start, e.end))
        if r.provocation >= 0.5:
            triggers["provocation"] = list(r.provocation_evidence)
        r.triggers = triggers

    @staticmethod
    def _entities(text: str, tokens: list[Token]) -> list[Entity]:
        out: list[Entity] = []
        for t in tokens:
            kind = t.kind
            if kind == "hashtag":
                out.append(Entity("hashtag", t.text, t.start, t.end))
            elif kind == "mention":
                out.append(Entity("mention", t.text, t.start, t.end))
            elif kind == "emoji":
                out.append(Entity("emoji", t.text, t.start, t.end))
            elif kind == "url":
                out.append(Entity("url", t.text, t.start, t.end))
                dom = _domain(t.text)
                if dom:
                    out.append(Entity("domain", dom, t.start, t.end))
        return out


def _domain(url: str) -> str | None:
    try:
        host = urlsplit(url if "://" in url else "http://" + url).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


_SCORER: Scorer | None = None
_SCORER_LOCK = threading.Lock()


def get_scorer() -> Scorer:
    """The process-wide scorer (models load once, on first use)."""
    global _SCORER
    if _SCORER is None:
        with _SCORER_LOCK:
            if _SCORER is None:
                _SCORER = Scorer()
    return _SCORER


def score_texts(texts: Iterable[str], extensions: TenantExtensions | None = None):
    return get_scorer().score_batch(list(texts), extensions)
