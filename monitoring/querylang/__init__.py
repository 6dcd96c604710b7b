"""The monitored-query language: parse, print, compile and match.

Typical use::

    from monitoring.querylang import Matcher, QuerySyntaxError, compile_query, parse

    try:
        node = parse('(boikot* OR "tarik produk") AND #merekx -promo')
    except QuerySyntaxError as exc:
        ...  # exc.message, exc.position

    matcher = Matcher([(query.pk, compile_query(parse(query.text))) for query in queries])
    matched_ids = matcher.match(mention_text)

The language is documented for users in ``docs/queries.md``. Nothing here
depends on Django.
"""

from .compiler import CompiledQuery, Matcher, compile_query, terms
from .nodes import And, Atom, Node, Not, Or, Phrase, Prefix, Term, and_, is_positive, or_
from .parser import (
    MAX_DEPTH,
    MAX_PROXIMITY,
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    QuerySyntaxError,
    parse,
    unparse,
)
from .text import PreparedText, normalize, prepare, tokenize

__all__ = [
    "MAX_DEPTH",
    "MAX_PROXIMITY",
    "MAX_QUERY_LENGTH",
    "MAX_TERMS",
    "And",
    "Atom",
    "CompiledQuery",
    "Matcher",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Prefix",
    "PreparedText",
    "QuerySyntaxError",
    "Term",
    "and_",
    "compile_query",
    "is_positive",
    "normalize",
    "or_",
    "parse",
    "prepare",
    "terms",
    "tokenize",
    "unparse",
]
