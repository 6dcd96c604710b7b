"""Syntax tree of a monitored query.

Nodes are immutable and compare by value, so two queries that mean the same
thing after parsing (``a AND b`` and ``a b``; ``NOT x`` and ``-x``) are equal.
``And`` and ``Or`` are n-ary and flat: build them with :func:`and_` and
:func:`or_`, which splice nested nodes of the same kind.

All text inside nodes is normalised (see :mod:`.text`): lower case, no accents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "And",
    "Atom",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Prefix",
    "Term",
    "and_",
    "is_positive",
    "or_",
]


@dataclass(frozen=True, slots=True)
class Term:
    """One word, ``#hashtag`` or ``@handle``, matched as a whole token."""

    text: str

    @property
    def kind(self) -> str:
        if self.text.startswith("#"):
            return "hashtag"
        if self.text.startswith("@"):
            return "handle"
        return "word"


@dataclass(frozen=True, slots=True)
class Prefix:
    """A prefix wildcard (``boikot*``): tokens starting with ``text``."""

    text: str


@dataclass(frozen=True, slots=True)
class Phrase:
    """Consecutive tokens (``"harga naik"``), or with ``slop`` a proximity:
    all words within ``slop`` positions of each other, in any order."""

    words: tuple[str, ...]
    slop: int | None = None


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


Atom: TypeAlias = Term | Prefix | Phrase
Node: TypeAlias = Term | Prefix | Phrase | Not | And | Or


def and_(*children: Node) -> Node:
    """An ``And`` of ``children``, flattened; a single child is returned as is."""
    flat: list[Node] = []
    for child in children:
        if isinstance(child, And):
            flat.extend(child.children)
        else:
            flat.append(child)
    if not flat:
        raise ValueError("and_() needs at least one child")
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def or_(*children: Node) -> Node:
    """An ``Or`` of ``children``, flattened; a single child is returned as is."""
    flat: list[Node] = []
    for child in children:
        if isinstance(child, Or):
            flat.extend(child.children)
        else:
            flat.append(child)
    if not flat:
        raise ValueError("or_() needs at least one child")
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def is_positive(node: Node) -> bool:
    """Whether ``node`` can only match text that contains at least one of its
    terms (so it does not match "almost everything").

    A term is positive; ``NOT x`` never is; ``a AND b`` is when one side is;
    ``a OR b`` is when every alternative is.
    """
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(is_positive(c) for c in node.children)
    if isinstance(node, Or):
        return all(is_positive(c) for c in node.children)
    return True
