"""Parser and canonical printer for the monitored-query language.

Grammar (operators are upper case only; lower-case ``and`` is a plain word)::

    query   := or_expr EOF
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= unary (["AND"] unary)*           -- adjacent terms are ANDed
    unary   := "NOT" primary | "-" primary | primary
    primary := term | phrase | "(" or_expr ")"
    phrase  := '"' words '"' ["~" N]             -- ~N: proximity, 1 <= N <= 100
    term    := word | word* | #hashtag | #hash* | @handle | @hand*

Precedence is NOT > AND > OR. See ``docs/queries.md`` for the user guide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from .nodes import And, Atom, Node, Not, Or, Phrase, Prefix, Term, and_, is_positive, or_
from .text import normalize, token_spans

__all__ = [
    "MAX_DEPTH",
    "MAX_PROXIMITY",
    "MAX_QUERY_LENGTH",
    "MAX_TERMS",
    "MIN_PREFIX_CHARS",
    "QuerySyntaxError",
    "parse",
    "unparse",
]

MAX_QUERY_LENGTH = 2000
MAX_TERMS = 200
MAX_DEPTH = 20
MAX_PROXIMITY = 100
MIN_PREFIX_CHARS = 2

_OPERATORS = frozenset({"AND", "OR", "NOT"})
_LEXEME_STOP = frozenset('()"')


class QuerySyntaxError(ValueError):
    """A malformed query. ``position`` is the 0-based character offset of the
    problem in the query text; ``message`` says what is wrong (without the position;
    ``str()`` gives both, the position once)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        """The one way the position is written: after the message, once."""
        return f"{self.message} (position {self.position})"

    def as_dict(self) -> dict[str, object]:
        """The error as a JSON-friendly dict, for API responses."""
        return {"message": self.message, "position": self.position}

    def __repr__(self) -> str:
        return f"QuerySyntaxError({self.message!r}, {self.position})"


@dataclass(slots=True)
class _Tok:
    kind: str  # "(", ")", "AND", "OR", "NOT", "-", "ATOM", "EOF"
    pos: int
    atom: Atom | None = None


def _fail(message: str, position: int) -> NoReturn:
    raise QuerySyntaxError(message, position)


def _atom_from_lexeme(raw: str, start: int) -> Atom:
    for bad, what in (("?", "'?' wildcards are not supported"),):
        if bad in raw:
            _fail(f"{what}", start + raw.index(bad))
    if "~" in raw:
        at = start + raw.index("~")
        _fail("proximity '~' is only allowed right after a closing quote", at)
    star = raw.find("*")
    if star != -1:
        at = start + star
        if star != len(raw) - 1:
            _fail("wildcard '*' only allowed at the end of a term", at)
        stem = normalize(raw[:-1])
        spans = token_spans(stem)
        if len(spans) > 1:
            _fail("wildcard '*' must follow a single word", at)
        if not spans or spans[0][1] != len(stem):
            _fail("wildcard '*' must directly follow a letter or digit", at)
        form = spans[0][2]
        if len(form.lstrip("#@")) < MIN_PREFIX_CHARS:
            _fail(
                f"wildcard '*' needs at least {MIN_PREFIX_CHARS} letters or digits before it",
                at,
            )
        return Prefix(form)
    forms = [span[2] for span in token_spans(normalize(raw))]
    if not forms:
        _fail(f"term {raw!r} has no letters or digits", start)
    if len(forms) == 1:
        return Term(forms[0])
    return Phrase(tuple(forms))


def _lex(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
    n = len(query)
    i = 0
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c in "()":
            toks.append(_Tok(c, i))
            i += 1
        elif c == '"':
            end = query.find('"', i + 1)
            if end == -1:
                _fail("unterminated phrase: '\"' is never closed", i)
            body = query[i + 1 : end]
            if "*" in body:
                at = i + 1 + body.index("*")
                _fail("wildcard '*' not allowed inside a phrase", at)
            words = tuple(span[2] for span in token_spans(normalize(body)))
            if not words:
                _fail("empty phrase", i)
            k = end + 1
            slop: int | None = None
            if k < n and query[k] == "~":
                m = k + 1
                while m < n and query[m].isascii() and query[m].isdigit():
                    m += 1
                if m == k + 1:
                    _fail("expected a number after '~'", k)
                slop = int(query[k + 1 : m])
                if not 1 <= slop <= MAX_PROXIMITY:
                    _fail(f"proximity must be between 1 and {MAX_PROXIMITY}", k)
                if len(words) < 2:
                    _fail("proximity needs at least two words in the phrase", i)
                k = m
            atom: Atom = Term(words[0]) if len(words) == 1 else Phrase(words, slop)
            toks.append(_Tok("ATOM", i, atom))
            i = k
        elif c == "-":
            if i + 1 >= n or query[i + 1].isspace() or query[i + 1] == ")":
                _fail("expected a term after '-'", i)
            toks.append(_Tok("-", i))
            i += 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in _LEXEME_STOP:
                j += 1
            raw = query[i:j]
            if raw in _OPERATORS:
                toks.append(_Tok(raw, i))
            elif raw.startswith("NEAR/"):
                _fail('NEAR/n is not supported, use "word1 word2"~n', i)
            else:
                toks.append(_Tok("ATOM", i, _atom_from_lexeme(raw, i)))
            i = j
    toks.append(_Tok("EOF", n))
    return toks


_STARTS_UNARY = frozenset({"ATOM", "(", "NOT", "-"})


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.i = 0
        self.depth = 0
        self.terms = 0
        self.starts: dict[int, int] = {}

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def _mark(self, node: Node, pos: int) -> Node:
        self.starts.setdefault(id(node), pos)
        return node

    def _expect_term_after(self, op: _Tok) -> None:
        if self.peek().kind not in _STARTS_UNARY:
            name = "'-'" if op.kind == "-" else op.kind
            _fail(f"expected a term after {name}", op.pos)

    def parse_or(self) -> Node:
        start = self.peek().pos
        items = [self.parse_and()]
        while self.peek().kind == "OR":
            self._expect_term_after(self.take())
            items.append(self.parse_and())
        return self._mark(or_(*items), start)

    def parse_and(self) -> Node:
        start = self.peek().pos
        items = [self.parse_unary()]
        while True:
            kind = self.peek().kind
            if kind == "AND":
                self._expect_term_after(self.take())
            elif kind not in _STARTS_UNARY:
                break
            items.append(self.parse_unary())
        return self._mark(and_(*items), start)

    def parse_unary(self) -> Node:
        tok = self.peek()
        if tok.kind in ("NOT", "-"):
            self.take()
            if self.peek().kind not in ("ATOM", "("):
                name = "'-'" if tok.kind == "-" else "NOT"
                _fail(f"expected a term after {name}", tok.pos)
            return self._mark(Not(self.parse_primary()), tok.pos)
        return self.parse_primary()

    def parse_primary(self) -> Node:
        tok = self.take()
        if tok.kind == "ATOM":
            assert tok.atom is not None
            self.terms += 1
            if self.terms > MAX_TERMS:
                _fail(f"too many terms: more than {MAX_TERMS}", tok.pos)
            return self._mark(tok.atom, tok.pos)
        if tok.kind == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                _fail(
                    f"parentheses nested too deeply: more than {MAX_DEPTH} levels",
                    tok.pos,
                )
            nxt = self.peek()
            if nxt.kind == ")":
                _fail("empty parentheses", tok.pos)
            if nxt.kind == "EOF":
                _fail("unbalanced parenthesis: '(' is never closed", tok.pos)
            node = self.parse_or()
            if self.take().kind != ")":
                _fail("unbalanced parenthesis: '(' is never closed", tok.pos)
            self.depth -= 1
            return self._mark(node, tok.pos)
        if tok.kind == ")":
            _fail("unbalanced parenthesis: ')' has no matching '('", tok.pos)
        if tok.kind in ("AND", "OR"):
            _fail(f"expected a term before {tok.kind}", tok.pos)
        _fail("expected a term", tok.pos)  # pragma: no cover - guarded above


def parse(query: str) -> Node:
    """Parse ``query`` into a syntax tree.

    Raises :class:`QuerySyntaxError` with the position and nature of the first
    problem found. A query that only excludes terms (``NOT foo``,
    ``-foo -bar``, ``foo OR -bar``) is refused: it would match almost every
    mention.
    """
    if len(query) > MAX_QUERY_LENGTH:
        _fail(
            f"query too long: {len(query)} characters (max {MAX_QUERY_LENGTH})",
            MAX_QUERY_LENGTH,
        )
    toks = _lex(query)
    if toks[0].kind == "EOF":
        _fail("empty query", 0)
    parser = _Parser(toks)
    node = parser.parse_or()
    tok = parser.peek()
    if tok.kind != "EOF":
        # Anything else would have been consumed; only a stray ')' stops us.
        _fail("unbalanced parenthesis: ')' has no matching '('", tok.pos)
    if not is_positive(node):
        if isinstance(node, Or):
            culprit = next(c for c in node.children if not is_positive(c))
            at = parser.starts.get(id(culprit), 0)
            _fail(
                "OR alternative has no required term: NOT/- alone would match "
                "almost everything; give every alternative a term that must be present",
                at,
            )
        at = parser.starts.get(id(node), 0)
        _fail(
            "query has no required term: NOT/- alone would match almost everything; "
            "add a term that must be present",
            at,
        )
    return node


def _unparse_atom(node: Atom) -> str:
    if isinstance(node, Term):
        return node.text
    if isinstance(node, Prefix):
        return node.text + "*"
    text = '"' + " ".join(node.words) + '"'
    return text if node.slop is None else f"{text}~{node.slop}"


def unparse(node: Node) -> str:
    """Canonical text of ``node``: ``parse(unparse(n)) == n`` for any parsed ``n``.

    Uses explicit ``AND``, ``NOT`` (never ``-``) and only the parentheses that
    precedence requires.
    """
    if isinstance(node, Not):
        child = node.child
        inner = unparse(child)
        return f"NOT ({inner})" if isinstance(child, (And, Or, Not)) else f"NOT {inner}"
    if isinstance(node, And):
        return " AND ".join(
            f"({unparse(c)})" if isinstance(c, (Or, And)) else unparse(c) for c in node.children
        )
    if isinstance(node, Or):
        return " OR ".join(
            f"({unparse(c)})" if isinstance(c, Or) else unparse(c) for c in node.children
        )
    return _unparse_atom(node)
