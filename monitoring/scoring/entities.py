"""Step 6, entities: hashtags, @mentions, URLs with their domains and emoji from the tokens, and
the tenant's terms (brands, people, products) found with spaCy's ``PhraseMatcher`` (attribute
``LOWER``) over ``nlp.pipe`` on a blank multi-language tokenizer, loaded only when a tenant has
terms. Offsets are code-point offsets into the original text.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from .lifetime import settle
from .normalize import Token
from .schema import Entity

_TOKEN_ENTITY_KINDS = frozenset({"hashtag", "mention", "emoji"})


@lru_cache(maxsize=4096)  # the entity and the trigger step both ask, for the same links
def url_domain(url: str) -> str | None:
    """The host of ``url`` in lower case without ``www.``; None when there is none."""
    try:
        host = urlsplit(url if "://" in url else "http://" + url).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def token_entities(tokens: Sequence[Token]) -> list[Entity]:
    """Entities read off the tokens, in token order (a URL is followed by its domain)."""
    out: list[Entity] = []
    for t in tokens:
        kind = t.kind
        if kind in _TOKEN_ENTITY_KINDS:
            out.append(Entity(kind, t.text, t.start, t.end))
        elif kind == "url":
            out.append(Entity("url", t.text, t.start, t.end))
            dom = url_domain(t.text)
            if dom:
                out.append(Entity("domain", dom, t.start, t.end))
    return out


class TermMatcher:
    """Tenant terms as ``term`` entities; spaCy and each term set's matcher load once."""

    def __init__(self) -> None:
        self._nlp: Any = None
        self._lock = threading.Lock()
        self._matcher = lru_cache(maxsize=64)(self._build)

    def _spacy(self) -> Any:  # lazily: only tenant terms need spaCy
        if self._nlp is None:
            import spacy

            self._nlp = spacy.blank("xx")
            settle()  # spaCy's vocabulary lives as long as the process too
        return self._nlp

    def _build(
        self, terms: tuple[tuple[str, str], ...]
    ) -> tuple[Any, dict[str, str], tuple[tuple[str, ...], ...]]:
        from spacy.matcher import PhraseMatcher

        nlp = self._spacy()
        matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        kinds: dict[str, str] = {}
        needles = []
        for i, (text, kind) in enumerate(terms):
            key = f"term{i}"
            kinds[key] = kind
            doc = nlp.make_doc(text)
            matcher.add(key, [doc])
            needles.append(tuple(_fold(t.lower_) for t in doc))
        return matcher, kinds, tuple(needles)

    def match(self, texts: Sequence[str], terms: tuple[tuple[str, str], ...]) -> list[list[Entity]]:
        """The ``term`` entities of each text (empty lists when there are no terms).

        Only texts that may hold a term go through spaCy: those in which, for some term, each of
        its tokens in lower case occurs in the text in lower case, with the Greek final sigma
        folded on both sides (see :func:`_fold`). A match's tokens are pieces of the text, so a
        text that fails this has no match; the result is the same as running every text."""
        hits: list[list[Entity]] = [[] for _ in texts]
        if not terms:
            return hits
        matcher, kinds, needles = self._matcher(terms)
        todo = [k for k, text in enumerate(texts) if _may_hold(text, needles)]
        if not todo:
            return hits
        nlp = self._spacy()
        with self._lock:
            docs = nlp.pipe((texts[k] for k in todo), batch_size=256)
            for k, doc in zip(todo, docs, strict=True):
                for match_id, s, e in matcher(doc):
                    span = doc[s:e]
                    key = nlp.vocab.strings[match_id]
                    hits[k].append(
                        Entity("term", span.text, span.start_char, span.end_char, kinds[key])
                    )
        return hits


_FINAL_SIGMA = "\N{GREEK SMALL LETTER FINAL SIGMA}"
_SIGMA = "\N{GREEK SMALL LETTER SIGMA}"


def _fold(low: str) -> str:
    """``low`` (lower case) with the final sigma as the other small sigma.

    ``str.lower`` works character by character (one character may become several, as the dotted
    capital I becomes ``i`` and a combining dot) except for the capital sigma, which becomes the
    final sigma at the end of a word and the other small sigma elsewhere: the lower case of a
    piece of a text is then a piece of the text's lower case once both small sigmas are one
    letter. spaCy's ``LOWER`` is ``str.lower`` of the token."""
    return low.replace(_FINAL_SIGMA, _SIGMA) if _FINAL_SIGMA in low else low


def _may_hold(text: str, needles: tuple[tuple[str, ...], ...]) -> bool:
    """False only when ``text`` cannot hold any term (see :meth:`TermMatcher.match`)."""
    low = text.lower()
    if not low.isascii():
        low = _fold(low)
    return any(all(piece in low for piece in pieces) for pieces in needles)
