"""Compiled queries and a matcher for many queries at once.

A :class:`CompiledQuery` is a predicate over a :class:`~.text.PreparedText`
(a mention normalised and tokenised once) plus its *anchors*: a small set of
terms such that the query can only match a mention containing at least one of
them. Every accepted query has anchors, because queries that only exclude are
refused by the parser.

:class:`Matcher` keeps an inverted index from anchors to queries. Matching one
mention prepares its text once, looks each distinct token of the mention up in
the index (and in a per-length prefix index for wildcard anchors), and only
evaluates the predicates of the candidate queries found that way. With a few
hundred queries per tenant most mentions touch a handful of candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from .nodes import And, Atom, Node, Not, Or, Phrase, Prefix, Term, is_positive
from .parser import parse, unparse
from .text import PreparedText, prepare

__all__ = ["CompiledQuery", "Matcher", "compile_query", "terms"]

Predicate = Callable[[PreparedText], bool]
K = TypeVar("K")


def _min_window(lists: list[list[int]]) -> int:
    """Smallest ``max - min`` over a choice of one position from each list."""
    merged = sorted((p, i) for i, where in enumerate(lists) for p in where)
    need = len(lists)
    counts = [0] * need
    have = 0
    best = 1 << 30
    left = 0
    for p, i in merged:
        if counts[i] == 0:
            have += 1
        counts[i] += 1
        while have == need:
            lp, li = merged[left]
            best = min(best, p - lp)
            counts[li] -= 1
            if counts[li] == 0:
                have -= 1
            left += 1
    return best


def _compile_phrase(node: Phrase) -> Predicate:
    words = node.words
    slop = node.slop
    if slop is not None:
        uniq = tuple(dict.fromkeys(words))

        def near(doc: PreparedText) -> bool:
            pos = doc.positions
            lists = []
            for w in uniq:
                where = pos.get(w)
                if where is None:
                    return False
                lists.append(where)
            return _min_window(lists) <= slop

        return near

    first = words[0]
    rest = tuple(enumerate(words[1:], 1))
    others = tuple(dict.fromkeys(words[1:]))
    last = len(words) - 1

    def phrase(doc: PreparedText) -> bool:
        pos = doc.positions
        starts = pos.get(first)
        if starts is None:
            return False
        for w in others:
            if w not in pos:
                return False
        slots = doc.slots
        limit = len(slots) - last
        for p in starts:
            if p >= limit:
                return False
            for i, w in rest:
                if w not in slots[p + i]:
                    break
            else:
                return True
        return False

    return phrase


def _cost(node: Node) -> int:
    if isinstance(node, Term):
        return 0
    if isinstance(node, Prefix):
        return 1
    if isinstance(node, Phrase):
        return 2
    return 3


def _compile(node: Node) -> Predicate:
    if isinstance(node, Term):
        key = node.text
        return lambda doc: key in doc.positions
    if isinstance(node, Prefix):
        prefix = node.text
        return lambda doc: doc.has_prefix(prefix)
    if isinstance(node, Phrase):
        return _compile_phrase(node)
    if isinstance(node, Not):
        inner = _compile(node.child)
        return lambda doc: not inner(doc)
    children = sorted(node.children, key=_cost)  # cheap checks first
    if all(isinstance(c, Term) for c in children):
        keys = frozenset(c.text for c in children if isinstance(c, Term))
        if isinstance(node, And):
            return lambda doc: doc.positions.keys() >= keys
        return lambda doc: not doc.positions.keys().isdisjoint(keys)
    preds = tuple(_compile(c) for c in children)
    if isinstance(node, And):
        # Plain loops: all()/any() over a generator cost about twice as much here.
        def all_of(doc: PreparedText) -> bool:
            for pred in preds:  # noqa: SIM110
                if not pred(doc):
                    return False
            return True

        return all_of

    def any_of(doc: PreparedText) -> bool:
        for pred in preds:  # noqa: SIM110
            if pred(doc):
                return True
        return False

    return any_of


_Anchors = tuple[frozenset[str], frozenset[str]]  # (exact forms, prefixes)


def _anchor_cost(anchors: _Anchors) -> int:
    exact, prefixes = anchors
    return sum(3 if len(w) <= 3 else 1 for w in exact) + 4 * len(prefixes)


def _anchors(node: Node) -> _Anchors | None:
    if isinstance(node, Term):
        return frozenset({node.text}), frozenset()
    if isinstance(node, Prefix):
        return frozenset(), frozenset({node.text})
    if isinstance(node, Phrase):
        # every word is required: the longest is likely the rarest
        return frozenset({max(node.words, key=len)}), frozenset()
    if isinstance(node, Not):
        return None
    found = [_anchors(c) for c in node.children]
    if isinstance(node, And):
        options = [a for a in found if a is not None]
        return min(options, key=_anchor_cost) if options else None
    if any(a is None for a in found):
        return None
    exact: set[str] = set()
    prefixes: set[str] = set()
    for a in found:
        assert a is not None
        exact |= a[0]
        prefixes |= a[1]
    return frozenset(exact), frozenset(prefixes)


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """A query ready for matching: its tree, predicate and index anchors."""

    node: Node
    predicate: Predicate
    exact_anchors: frozenset[str]
    prefix_anchors: frozenset[str]

    @property
    def text(self) -> str:
        """Canonical query text."""
        return unparse(self.node)

    def matches(self, text: str | PreparedText) -> bool:
        doc = prepare(text) if isinstance(text, str) else text
        return self.predicate(doc)


def compile_query(query: Node | str) -> CompiledQuery:
    """Compile a parsed query (or query text, parsed first).

    Raises :class:`~.parser.QuerySyntaxError` for bad text and ``ValueError``
    for a hand-built tree that only excludes terms.
    """
    node = parse(query) if isinstance(query, str) else query
    anchors = _anchors(node)
    if anchors is None or not is_positive(node):
        raise ValueError("a query that only excludes terms cannot be compiled")
    return CompiledQuery(node, _compile(node), anchors[0], anchors[1])


class Matcher(Generic[K]):
    """Match one mention against many compiled queries.

    ``Matcher([(query_id, compiled), ...]).match(text)`` returns the ids of the
    matching queries, in the order they were given.
    """

    def __init__(self, queries: Iterable[tuple[K, CompiledQuery]]) -> None:
        self._ids: list[K] = []
        self._preds: list[Predicate] = []
        self._exact: dict[str, list[int]] = {}
        prefix_index: dict[int, dict[str, list[int]]] = {}
        for index, (query_id, compiled) in enumerate(queries):
            self._ids.append(query_id)
            self._preds.append(compiled.predicate)
            for form in compiled.exact_anchors:
                self._exact.setdefault(form, []).append(index)
            for prefix in compiled.prefix_anchors:
                prefix_index.setdefault(len(prefix), {}).setdefault(prefix, []).append(index)
        self._prefix = sorted(prefix_index.items())

    def __len__(self) -> int:
        return len(self._ids)

    def candidates(self, doc: PreparedText) -> set[int]:
        """Indexes of the queries whose anchors occur in ``doc``."""
        found: set[int] = set()
        exact = self._exact
        for form in doc.positions:
            hit = exact.get(form)
            if hit is not None:
                found.update(hit)
        if self._prefix:
            for form in doc.positions:
                size = len(form)
                for length, table in self._prefix:
                    if length > size:
                        break
                    hit = table.get(form[:length])
                    if hit is not None:
                        found.update(hit)
        return found

    def match(self, text: str | PreparedText) -> list[K]:
        """Ids of the queries matching ``text`` (prepared once here)."""
        doc = prepare(text) if isinstance(text, str) else text
        preds = self._preds
        ids = self._ids
        return [ids[i] for i in sorted(self.candidates(doc)) if preds[i](doc)]


def terms(node: Node) -> list[Atom]:
    """The positive terms of a query (not under NOT), without duplicates, in
    query order: what to highlight in a matching mention."""
    out: dict[Atom, None] = {}

    def walk(n: Node) -> None:
        if isinstance(n, Not):
            return
        if isinstance(n, (And, Or)):
            for c in n.children:
                walk(c)
        else:
            out.setdefault(n, None)

    walk(node)
    return list(out)
