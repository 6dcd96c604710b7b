"""Property-based tests of the query language (hypothesis).

* generated trees survive ``unparse`` -> ``parse`` unchanged, and so does any
  surface spelling of them (``-x`` or ``NOT x``, implicit or explicit AND, extra
  parentheses, upper case and accents);
* the compiled matcher agrees with a naive reference evaluator that scans the
  token list for every node;
* ``parse`` never raises anything but ``QuerySyntaxError``.
"""

from __future__ import annotations

import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.querylang import (
    And,
    Matcher,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    QuerySyntaxError,
    Term,
    and_,
    compile_query,
    is_positive,
    normalize,
    or_,
    parse,
    prepare,
    tokenize,
    unparse,
)

WORDS = ["boikot", "produk", "cafe", "banjir", "jakarta", "viral", "2024", "kopi", "and", "bbm"]
HASHTAGS = ["#boikot", "#banjir_jakarta", "#kopi"]
HANDLES = ["@pln_123", "@budi@mastodon.social", "@budi"]
PREFIXES = ["boik", "ja", "#ban", "@bu", "kop", "20"]
SPELLINGS = {
    "cafe": ["cafe", "café", "CAFÉ", "Cafe"],
    "boikot": ["boikot", "Boikot", "BOIKOT", "bóikot"],
    "jakarta": ["jakarta", "Jakarta", "JAKARTA", "jakartá"],
    "and": ["and", "And"],
}

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies ------------------------------------------------------------------

phrase_words = st.lists(st.sampled_from(WORDS + HASHTAGS + HANDLES), min_size=2, max_size=3)
atoms: st.SearchStrategy[Node] = st.one_of(
    st.sampled_from(WORDS + HASHTAGS + HANDLES).map(Term),
    st.sampled_from(PREFIXES).map(Prefix),
    st.builds(
        Phrase,
        phrase_words.map(tuple),
        st.one_of(st.none(), st.integers(min_value=1, max_value=4)),
    ),
)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    many = st.lists(children, min_size=2, max_size=4)
    return st.one_of(
        many.map(lambda cs: and_(*cs)),
        many.map(lambda cs: or_(*cs)),
        children.map(Not),
    )


trees: st.SearchStrategy[Node] = st.recursive(atoms, _extend, max_leaves=12)
queries = trees.filter(is_positive)

NOISE = [
    "boikotan",
    "memboikot",
    "#boikotan",
    "@pln",
    "pln",
    "123",
    "Café",
    "BOIKOT",
    "harga-bbm",
    "#Banjir_Jakarta",
    "budi@mail.com",
    "@Budi",
    "jakartanya",
    "kopinya",
    "20245",
    "AND",
]
fragments = st.sampled_from(
    WORDS + HASHTAGS + HANDLES + NOISE + [s for v in SPELLINGS.values() for s in v]
)
texts = st.one_of(
    st.lists(
        st.tuples(fragments, st.sampled_from([" ", ", ", "! ", " - ", "\n", " (", ") "])),
        max_size=25,
    ).map(lambda parts: "".join(a + b for a, b in parts)),
    st.text(max_size=80),
)

# --- reference evaluator ---------------------------------------------------------


def naive(node: Node, slots: list[tuple[str, ...]]) -> bool:
    if isinstance(node, Term):
        return any(node.text in forms for forms in slots)
    if isinstance(node, Prefix):
        return any(f.startswith(node.text) for forms in slots for f in forms)
    if isinstance(node, Phrase):
        words = node.words
        if node.slop is None:
            return any(
                all(w in slots[p + i] for i, w in enumerate(words))
                for p in range(len(slots) - len(words) + 1)
            )
        where = [[i for i, forms in enumerate(slots) if w in forms] for w in words]
        return any(max(c) - min(c) <= node.slop for c in itertools.product(*where))
    if isinstance(node, Not):
        return not naive(node.child, slots)
    if isinstance(node, And):
        return all(naive(c, slots) for c in node.children)
    assert isinstance(node, Or)
    return any(naive(c, slots) for c in node.children)


# --- surface spellings of a tree -----------------------------------------------


def _spell(word: str, data: st.DataObject) -> str:
    if word in SPELLINGS:
        return data.draw(st.sampled_from(SPELLINGS[word]))
    if word[0] in "#@":
        return data.draw(st.sampled_from([word, word.upper()]))
    return word


def render(node: Node, data: st.DataObject) -> str:
    """Any valid spelling of ``node``; its text parses back to ``node``."""
    if isinstance(node, Term):
        return _spell(node.text, data)
    if isinstance(node, Prefix):
        return _spell(node.text, data) + "*"
    if isinstance(node, Phrase):
        sep = data.draw(st.sampled_from([" ", "  ", ", "]))
        body = sep.join(_spell(w, data) for w in node.words)
        return f'"{body}"' + ("" if node.slop is None else f"~{node.slop}")
    if isinstance(node, Not):
        inner = render(node.child, data)
        if not isinstance(node.child, (Term, Prefix, Phrase)) or data.draw(st.booleans()):
            inner = f"({inner})"
        return ("-" if data.draw(st.booleans()) else "NOT ") + inner
    parts = []
    for child in node.children:
        text = render(child, data)
        if isinstance(child, (And, Or)) or data.draw(st.integers(0, 5)) == 0:
            text = f"({text})"
        parts.append(text)
    if isinstance(node, Or):
        return " OR ".join(parts)
    out = parts[0]
    for part in parts[1:]:
        out += data.draw(st.sampled_from([" ", " AND ", "  AND\n"])) + part
    return out


# --- properties ------------------------------------------------------------------


@PROPS
@given(queries)
def test_unparse_then_parse_round_trips(node: Node) -> None:
    text = unparse(node)
    assert parse(text) == node
    assert unparse(parse(text)) == text


@PROPS
@given(queries, st.data())
def test_any_spelling_parses_to_the_same_tree(node: Node, data: st.DataObject) -> None:
    text = render(node, data)
    assert parse(text) == node
    assert parse(unparse(parse(text))) == parse(text)


@PROPS
@given(st.lists(queries, min_size=1, max_size=8), texts)
def test_matcher_agrees_with_naive_evaluator(nodes: list[Node], text: str) -> None:
    slots = tokenize(text)
    expected = [i for i, node in enumerate(nodes) if naive(node, slots)]
    compiled = [compile_query(node) for node in nodes]
    assert Matcher(list(enumerate(compiled))).match(text) == expected
    doc = prepare(text)
    assert [i for i, c in enumerate(compiled) if c.matches(doc)] == expected


query_fragments = st.sampled_from(
    [
        "(",
        ")",
        '"',
        " ",
        "AND",
        "OR",
        "NOT",
        "-",
        "*",
        "#",
        "@",
        "~",
        "~3",
        "?",
        "boikot",
        "Café",
        "x",
        "12",
        "_",
        ".",
        "NEAR/2",
    ]
)
query_texts = st.one_of(
    st.text(max_size=120),
    st.lists(query_fragments, max_size=30).map("".join),
    st.lists(query_fragments, max_size=30).map(" ".join),
)


@settings(max_examples=400, deadline=None)
@given(query_texts)
def test_parse_only_raises_query_syntax_error(text: str) -> None:
    try:
        node = parse(text)
    except QuerySyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        assert exc.message
        return
    assert parse(unparse(node)) == node
    compile_query(node)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert tokenize(once) == tokenize(text)
    assert prepare(text).slots == tokenize(text)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True), max_size=12),
    st.lists(st.sampled_from([" ", ", ", "-", "... ", "/", "_", "'"]), min_size=12, max_size=12),
)
def test_word_boundaries_are_letters_and_digits(words: list[str], seps: list[str]) -> None:
    text = "".join(w + s for w, s in zip(words, seps, strict=False))
    assert [forms[0] for forms in tokenize(text)] == [w.lower() for w in words]
    assert re.sub(r"[^a-z0-9]+", " ", text.lower()).split() == [w.lower() for w in words]
