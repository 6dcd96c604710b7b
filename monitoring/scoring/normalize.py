"""Tokenisation and normalisation of Indonesian/English social-media text.

Every token keeps code-point offsets into the original text, so evidence spans found on the
normalised form can be reported against what the author actually wrote.

Rules (each has tests in ``tests/scoring/test_normalize.py``):

* lower-casing; URLs, @handles, hashtags, emoji and emoticons are recognised as their own tokens;
* repeated letters are collapsed (``bagusss`` -> ``bagus``, ``mantaaap`` -> ``mantap``) using the
  known-word list to choose between the one- and two-letter forms (``goood`` -> ``good``);
* number and symbol spellings are undone when the result is a known word (``g0bl0k`` -> ``goblok``,
  ``a5u`` -> ``asu``, ``b4ngs4t`` -> ``bangsat``) and ``*``-masked words are matched against the
  lexicons (``anj*ng`` -> ``anjing``); ``anak2`` -> ``anak-anak``;
* laughter (``wkwkwk``, ``hahaha``) becomes ``haha``;
* slang and abbreviations are mapped per language (``gak`` -> ``tidak``, ``bgt`` -> ``banget``,
  ``dont`` -> ``do not``) from ``data/id_slang.json`` (MIT, derived), ``data/slang_extra.json`` and
  ``data/en_slang.json``;
* idioms are rewritten before negation (``bukan main`` -> ``sangat``);
* hashtags are split into words (``#JanganBeliDisini`` -> ``jangan beli disini``; lower-case
  hashtags by dictionary segmentation);
* negation marks the next two words (``tidak bagus`` -> ``tidak NEG_bagus``), stopping at
  punctuation.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

DATA_DIR = Path(__file__).resolve().parent / "data"

# --- tokenizer ---------------------------------------------------------------------------------

_EMOJI = (
    r"(?:[\U0001F1E6-\U0001F1FF]{2}"
    r"|[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF\u2190-\u21FF\u3030\u303D]"
    r"(?:[\uFE0F\U0001F3FB-\U0001F3FF]|\u200D[\U0001F000-\U0001FAFF\u2600-\u27BF\u2640\u2642]\uFE0F?)*)"
)
_EMOTICON = r"(?:>:\(|:'\(|</3|<3|\^_?\^|-_-|[:;=][\-o']?[)(\]\[dDpP/\\|3])"
TOKEN_RE = re.compile(
    r"(?P<url>(?:https?://|www\.)[^\s<>\"'`]+)"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{1,30})"
    r"|(?P<hashtag>(?<![\w#&])#[^\W_][\w]*)"
    rf"|(?P<emoticon>(?<![\w:;=]){_EMOTICON}(?![\w]))"
    rf"|(?P<emoji>{_EMOJI})"
    r"|(?P<word>(?:[^\W_]|[*$])(?:[^\W_]|[*@$']|-(?=[^\W_]))*)"
    r"|(?P<punct>[!?.,;:]+)",
    re.UNICODE,
)
_URL_TRAIL = ".,;:!?)]}'\""


# Tokens are built with ``tuple.__new__`` (C speed) rather than the named tuple's own
# ``__new__`` (a Python function): the scorer makes millions of them.
_new = tuple.__new__


class Token(NamedTuple):
    kind: str  # word | url | mention | hashtag | emoji | emoticon | punct
    text: str  # original text of the token
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    append = out.append
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup or "word"
        start, end = m.span()
        tok = m.group()
        if kind == "url":
            stripped = tok.rstrip(_URL_TRAIL)
            end -= len(tok) - len(stripped)
            tok = stripped
        elif kind == "word":
            if tok[-1] == "'":
                tok = tok.rstrip("'")
                end = start + len(tok)
            if (tok[0] == "*" or tok[0] == "$") and not any(c.isalnum() for c in tok):
                continue
        append(_new(Token, (kind, tok, start, end)))
    return out


# --- dictionaries --------------------------------------------------------------------------------


def _load_json(name: str) -> dict:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        data = json.load(fh)
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _flatten_phrases(spec: list) -> list[str]:
    return [p[0] if isinstance(p, list) else p for p in spec]


class Resources:
    """Dictionaries shared by the normaliser, language identifier and lexicon matcher."""

    def __init__(self, extra_known: frozenset[str] | None = None) -> None:
        if extra_known is None:
            path = DATA_DIR / "known_words.txt"
            extra_known = (
                frozenset(path.read_text(encoding="utf-8").split())
                if path.exists()
                else frozenset()
            )
        self.id_slang: dict[str, str] = _load_json("id_slang.json")
        self.id_slang.update(_load_json("slang_extra.json"))
        self.en_slang: dict[str, str] = _load_json("en_slang.json")
        self.idioms: dict[tuple[str, ...], str] = {
            tuple(k.split()): v for k, v in _load_json("idioms.json").items()
        }
        self.provocation: dict = _load_json("provocation.json")
        for reason, spec in _load_json("provocation_id.json").items():
            # plain phrases of the extra file carry its own default weight
            default = float(spec["weight"])
            pairs = [p if isinstance(p, list) else [p, default] for p in spec["phrases"]]
            if reason in self.provocation:
                self.provocation[reason]["phrases"] = self.provocation[reason]["phrases"] + pairs
            else:
                self.provocation[reason] = {"weight": default, "phrases": pairs}
        self.triggers: dict = _load_json("triggers.json")
        lex = _load_json("sentiment_lexicon.json")
        self.pos_words = frozenset(lex["positive"])
        self.neg_words = frozenset(lex["negative"])
        emo = _load_json("emoji.json")
        self.emoji_polarity: dict[str, str] = emo["polarity"]
        self.emoji_provocation: dict[str, float] = emo["provocation"]
        stop = (DATA_DIR / "lang_stopwords.json").read_text(encoding="utf-8")
        self.stopwords: dict[str, frozenset[str]] = {
            k: frozenset(v.split()) for k, v in json.loads(stop).items() if not k.startswith("_")
        }
        lexicon_words: set[str] = set()
        for spec in self.provocation.values():
            for p in _flatten_phrases(spec["phrases"]):
                lexicon_words.update(p.split())
        for phrases in self.triggers.values():
            for p in phrases:
                lexicon_words.update(p.split())
        self.lexicon_words = frozenset(lexicon_words)
        slang_words: set[str] = set(self.id_slang) | set(self.en_slang)
        for v in list(self.id_slang.values()) + list(self.en_slang.values()):
            slang_words.update(v.split())
        self.core_known = frozenset(slang_words | lexicon_words | self.pos_words | self.neg_words)
        self.known = frozenset(
            slang_words
            | lexicon_words
            | self.pos_words
            | self.neg_words
            | set().union(*self.stopwords.values())
            | {w for w in extra_known if not _TRIPLE.search(w)}
        )
        by_len: dict[int, list[str]] = {}
        for w in lexicon_words | self.neg_words:
            by_len.setdefault(len(w), []).append(w)
        self._masked_candidates = {k: sorted(v) for k, v in by_len.items()}
        self.id_slang_t = {k: tuple(v.split()) for k, v in self.id_slang.items()}
        self.en_slang_t = {k: tuple(v.split()) for k, v in self.en_slang.items()}
        self.idiom_first = frozenset(k[0] for k in self.idioms)
        self.form_cache: dict[str, str] = {}
        # a whitespace-free piece of text -> its tokens and forms, offsets from the piece's start
        self.chunk_cache: dict[str, tuple[tuple[Token, ...], tuple[Form, ...]]] = {}
        self.word_form = lru_cache(maxsize=200_000)(self._word_form)
        self.split_hashtag = lru_cache(maxsize=50_000)(self._split_hashtag)

    # -- single word -----------------------------------------------------------------------------

    def _word_form(self, low: str) -> str:
        """Return the cleaned form of a lower-cased word token (before slang mapping)."""
        known = self.known
        if len(low) >= 4 and _LAUGH.fullmatch(low):
            return "haha"
        if low in known:
            return low
        w = low
        if "*" in w:
            cands = self._masked_candidates.get(len(w), [])
            pat = re.compile(re.escape(w).replace(r"\*", "[a-z]"))
            for c in cands:
                if pat.fullmatch(c):
                    return c
            w = w.replace("*", "")
        if any(c.isdigit() for c in w) or "$" in w or "@" in w:
            m = _REDUP.fullmatch(w)
            if m:
                return f"{m.group(1)}-{m.group(1)}"
            cand = w.translate(_LEET)
            if cand != w and cand.isalpha() and len(cand) >= 3:
                deduped = self._dedupe(cand)
                if deduped in known or deduped in self.id_slang:
                    return deduped
            if not w.isalnum():
                w = "".join(c for c in w if c.isalnum() or c in "-'")
            return w
        return self._dedupe(w)

    def _dedupe(self, w: str) -> str:
        known = self.known
        if w in known:
            return w
        if _TRIPLE.search(w):
            two = _TRIPLE.sub(r"\1\1", w)
            one = _TRIPLE.sub(r"\1", w)
            core = self.core_known
            if two in core or two in self.id_slang:
                return two
            if one in known:
                return one
            if two in known:
                return two
            w = one
            if w in known:
                return w
        if _DOUBLE.search(w):
            single = _DOUBLE.sub(r"\1", w)
            if single in known and w not in self.id_slang:
                return single
        return w

    def _split_hashtag(self, body: str) -> tuple[tuple[str, int, int], ...]:
        """Split a hashtag body (without '#') into (lower word, start, end) offsets in body."""
        parts = [(m.group(), m.start(), m.end()) for m in _CAMEL.finditer(body)]
        if len(parts) > 1:
            return tuple((p.lower(), s, e) for p, s, e in parts)
        low = body.lower()
        n = len(low)
        if n > 40:
            return ((low, 0, n),)
        known = self.known
        # dynamic programming: minimise number of pieces, pieces must be known (len>=2) or digits
        best: list[tuple[int, list[int]] | None] = [None] * (n + 1)
        best[0] = (0, [])
        for i in range(n):
            cur = best[i]
            if cur is None:
                continue
            for j in range(i + 2, min(n, i + 20) + 1):
                piece = low[i:j]
                if piece in known or piece in self.id_slang or piece.isdigit():
                    cand = (cur[0] + 1, cur[1] + [j])
                    old = best[j]
                    if old is None or cand[0] < old[0]:
                        best[j] = cand
        final = best[n]
        if final is None or final[0] <= 1:
            return ((low, 0, n),)
        out = []
        prev = 0
        for cut in final[1]:
            out.append((low[prev:cut], prev, cut))
            prev = cut
        return tuple(out)


_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "@": "a",
        "$": "s",
        "6": "g",
        "2": "z",
    }
)
_REDUP = re.compile(r"([a-z]{2,})2")
_LAUGH = re.compile(r"(?:w+k+){2,}w*|(?:[wkaeh]*h+[aeiou]+){2,}h*|(?:xi){2,}|(?:ha){2,}")
_TRIPLE = re.compile(r"([a-z])\1{2,}")
_DOUBLE = re.compile(r"([a-z])\1")
_CAMEL = re.compile(r"[A-Z]{2,}(?=[A-Z][a-z]|\d|\b|$)|[A-Z]?[a-z]+|[A-Z]+|\d+")

NEGATORS_ID = frozenset({"tidak", "bukan", "belum", "jangan", "tanpa", "kurang"})
NEGATORS_EN = frozenset({"not", "no", "never", "without", "nothing", "nobody", "neither", "nor"})
INTENSIFIERS = frozenset(
    {
        "banget",
        "sangat",
        "sekali",
        "amat",
        "parah",
        "bener-bener",
        "benar-benar",
        "very",
        "so",
        "really",
        "super",
        "extremely",
        "totally",
    }
)


class NormToken(NamedTuple):
    norm: str  # normalised word (lower case), may carry a NEG_ prefix in ``feat``
    start: int
    end: int
    kind: str
    negated: bool
    literal: str = ""  # the cleaned form as written, when slang mapping replaced it ("" if not)


Form = tuple[str, int, int, str]  # (form, start, end, kind) before slang mapping


def forms(tokens: list[Token], res: Resources) -> list[Form]:
    """Language-independent pass: cleaned word forms (hashtags split), emoji, punctuation."""
    out: list[Form] = []
    append = out.append
    cache = res.form_cache
    for kind, text, start, end in tokens:
        if kind == "word":
            form = cache.get(text)
            if form is None:
                form = res.word_form(text.lower())
                if len(cache) < 500_000:
                    cache[text] = form
            append((form, start, end, "word"))
        elif kind == "hashtag":
            base = start + 1
            for piece, s, e in res.split_hashtag(text[1:]):
                append((res.word_form(piece), base + s, base + e, "hashtag"))
        elif kind == "punct":
            append((text[0], start, end, "punct"))
        elif kind == "emoticon":
            append((text.lower(), start, end, "emoticon"))
        elif kind == "emoji":
            append((text, start, end, "emoji"))
        elif kind == "url":
            append(("__url", start, end, "url"))
        elif kind == "mention":
            append(("__user", start, end, "mention"))
    return out


_CHUNK_RE = re.compile(r"\S+")
_CHUNK_CACHE_SIZE = 200_000


def tokens_and_forms(text: str, res: Resources) -> tuple[list[Token], list[Form]]:
    """``tokenize(text)`` and ``forms`` of those tokens, the same lists, in one pass.

    No token holds white space, and the tokenizer's look-arounds treat white space and either end
    of the text alike (none of them accepts a space-like character), so the tokens of a text are
    those of its whitespace-free pieces, moved by each piece's offset; so are the forms, which
    depend on a token alone. Pieces repeat (words, handles, hashtags, emoji): each one is
    tokenized and its forms found once (``Resources.chunk_cache``), and a post only shifts the
    offsets."""
    tokens: list[Token] = []
    fs: list[Form] = []
    tok_append = tokens.append
    form_append = fs.append
    cache = res.chunk_cache
    for m in _CHUNK_RE.finditer(text):
        chunk = m.group()
        hit = cache.get(chunk)
        if hit is None:
            ctoks = tokenize(chunk)
            hit = (tuple(ctoks), tuple(forms(ctoks, res)))
            if len(cache) < _CHUNK_CACHE_SIZE:
                cache[chunk] = hit
        base = m.start()
        if base:
            for kind, tok, start, end in hit[0]:
                tok_append(_new(Token, (kind, tok, start + base, end + base)))
            for form, start, end, kind in hit[1]:
                form_append((form, start + base, end + base, kind))
        else:
            tokens += hit[0]
            fs += hit[1]
    return tokens, fs


_NEGATORS = NEGATORS_ID | NEGATORS_EN


def normalise_forms(fs: list[Form], res: Resources, lang: str) -> list[NormToken]:
    """Language pass: slang mapping (``lang`` id/en/other; ``raw`` = none), idioms, negation."""
    slang = res.en_slang_t if lang == "en" else (None if lang == "raw" else res.id_slang_t)
    words: list[Form]
    literal: dict[int, str] = {}  # start offset -> form as written, for slang-mapped words
    if slang is None:
        words = fs
    else:
        words = []
        for f in fs:
            mapped = slang.get(f[0]) if f[3] in ("word", "hashtag") else None
            if mapped is None:
                words.append(f)
            else:
                literal[f[1]] = f[0]
                for part in mapped:
                    words.append((part, f[1], f[2], f[3]))
    idioms = res.idioms
    first = res.idiom_first
    out: list[NormToken] = []
    append = out.append
    scope = 0
    i = 0
    n = len(words)
    while i < n:
        w, s, e, kind = words[i]
        if w in first:
            for size in (2, 3):
                rep = idioms.get(tuple(x[0] for x in words[i : i + size]))
                if rep is not None:
                    w, e = rep, words[i + size - 1][2]
                    i += size - 1
                    break
        i += 1
        if kind == "punct":
            scope = 0
            append(_new(NormToken, (w, s, e, kind, False, "")))
        elif w in _NEGATORS:
            append(_new(NormToken, (w, s, e, kind, False, literal.get(s, "") if literal else "")))
            scope = 2
        else:
            lit = literal.get(s, "") if literal else ""
            if scope:
                append(_new(NormToken, (w, s, e, kind, True, lit)))
                scope -= 1
            else:
                append(_new(NormToken, (w, s, e, kind, False, lit)))
    return out


def normalise(tokens: list[Token], res: Resources, lang: str) -> list[NormToken]:
    """Both passes: see :func:`forms` and :func:`normalise_forms`."""
    return normalise_forms(forms(tokens, res), res, lang)
