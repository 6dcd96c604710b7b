"""Syntax of the monitored-query language: trees, canonical text and errors."""

from __future__ import annotations

import pytest

from monitoring.querylang import (
    MAX_DEPTH,
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    And,
    Not,
    Or,
    Phrase,
    Prefix,
    QuerySyntaxError,
    Term,
    parse,
    terms,
    unparse,
)


def test_single_term_is_normalised() -> None:
    assert parse("Café") == Term("cafe")


def test_implicit_and_equals_explicit_and() -> None:
    expected = And((Term("boikot"), Term("produk")))
    assert parse("boikot produk") == expected
    assert parse("boikot AND produk") == expected


def test_and_is_flattened() -> None:
    assert parse("a AND (b AND c) d") == And(tuple(Term(x) for x in "abcd"))


def test_precedence_not_and_or() -> None:
    assert parse("a OR b c") == Or((Term("a"), And((Term("b"), Term("c")))))
    assert parse("a b OR c") == Or((And((Term("a"), Term("b"))), Term("c")))
    assert parse("a NOT b OR c") == Or((And((Term("a"), Not(Term("b")))), Term("c")))
    assert parse("(a OR b) c") == And((Or((Term("a"), Term("b"))), Term("c")))


def test_minus_is_not() -> None:
    assert parse("banjir -promo") == parse("banjir NOT promo")
    assert parse('banjir -"info lengkap"') == And(
        (Term("banjir"), Not(Phrase(("info", "lengkap"))))
    )
    assert parse("banjir -(promo OR iklan)") == And(
        (Term("banjir"), Not(Or((Term("promo"), Term("iklan")))))
    )


def test_hyphen_inside_a_word_is_not_negation() -> None:
    assert parse("anti-vaksin") == Phrase(("anti", "vaksin"))
    assert parse("covid-19") == Phrase(("covid", "19"))


def test_lowercase_operators_are_terms() -> None:
    assert parse("kopi and teh") == And((Term("kopi"), Term("and"), Term("teh")))
    assert parse("not or") == And((Term("not"), Term("or")))


def test_phrases() -> None:
    assert parse('"Harga  BBM naik"') == Phrase(("harga", "bbm", "naik"))
    assert parse('"boikot"') == Term("boikot")
    assert parse('"harga bbm"~5') == Phrase(("harga", "bbm"), 5)


def test_hashtags_handles_prefixes() -> None:
    assert parse("#BoikotProdukX") == Term("#boikotprodukx")
    assert parse("@PLN_123") == Term("@pln_123")
    assert parse("@budi@mastodon.social") == Term("@budi@mastodon.social")
    assert parse("boikot*") == Prefix("boikot")
    assert parse("#boik*") == Prefix("#boik")
    assert parse("#boikot!") == Term("#boikot")


def test_unparse_is_canonical() -> None:
    q = '(Boikot* OR "tarik produk") #MerekX -promo OR "harga naik"~3'
    assert unparse(parse(q)) == (
        '(boikot* OR "tarik produk") AND #merekx AND NOT promo OR "harga naik"~3'
    )
    assert unparse(parse("a -(b c)")) == "a AND NOT (b AND c)"
    assert unparse(parse("a -(-b)")) == "a AND NOT (NOT b)"


def test_terms_lists_positive_atoms_once() -> None:
    node = parse('(boikot* OR "tarik produk") #merekx -promo boikot*')
    assert terms(node) == [Prefix("boikot"), Phrase(("tarik", "produk")), Term("#merekx")]


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("", 0, "empty query"),
        ("   ", 0, "empty query"),
        ("banjir (jakarta OR bekasi", 7, "unbalanced parenthesis: '(' is never closed"),
        ("banjir jakarta)", 14, "unbalanced parenthesis: ')' has no matching '('"),
        ("()", 0, "empty parentheses"),
        ("banjir AND", 7, "expected a term after AND"),
        ("banjir OR OR x", 7, "expected a term after OR"),
        ("OR banjir", 0, "expected a term before OR"),
        ("(AND banjir)", 1, "expected a term before AND"),
        ("banjir AND NOT", 11, "expected a term after NOT"),
        ("banjir NOT NOT x", 7, "expected a term after NOT"),
        ("banjir - x", 7, "expected a term after '-'"),
        ("banjir -", 7, "expected a term after '-'"),
        ('ab ""', 3, "empty phrase"),
        ('ab "  !! "', 3, "empty phrase"),
        ('ab "cd', 3, "unterminated phrase: '\"' is never closed"),
        ("boi*kot", 3, "wildcard '*' only allowed at the end of a term"),
        ("ab boik**", 7, "wildcard '*' only allowed at the end of a term"),
        ('"boik* x"', 5, "wildcard '*' not allowed inside a phrase"),
        ("b*", 1, "wildcard '*' needs at least 2 letters or digits before it"),
        ("#b*", 2, "wildcard '*' needs at least 2 letters or digits before it"),
        ("covid-1*", 7, "wildcard '*' must follow a single word"),
        ("boikot.*", 7, "wildcard '*' must directly follow a letter or digit"),
        ("boik?t", 4, "'?' wildcards are not supported"),
        ("boikot~2", 6, "proximity '~' is only allowed right after a closing quote"),
        ('"a b"~', 5, "expected a number after '~'"),
        ('"a b"~0', 5, "proximity must be between 1 and 100"),
        ('"a"~3', 0, "proximity needs at least two words in the phrase"),
        ("x !!!", 2, "term '!!!' has no letters or digits"),
        ("x NEAR/3 y", 2, 'NEAR/n is not supported, use "word1 word2"~n'),
    ],
)
def test_errors_have_position_and_message(query: str, position: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    assert info.value.position == position
    assert info.value.message == message
    assert info.value.as_dict() == {"message": message, "position": position}
    assert str(info.value) == f"{message} (position {position})"  # the position, once


@pytest.mark.parametrize(
    ("query", "position"),
    [("NOT banjir", 0), ("-banjir -promo", 0), ("  -(a b)", 2), ("x -y OR NOT z", 8)],
)
def test_only_negative_query_is_refused(query: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError, match="no required term") as info:
        parse(query)
    assert info.value.position == position


def test_or_alternative_that_only_excludes_is_refused() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse("banjir OR -promo")
    assert info.value.position == 10
    assert info.value.message.startswith("OR alternative has no required term")


def test_negative_parts_inside_a_positive_query_are_fine() -> None:
    assert parse("banjir (bekasi OR -promo)") is not None


def test_length_limit() -> None:
    ok = "a" * MAX_QUERY_LENGTH
    assert parse(ok) == Term(ok)
    with pytest.raises(QuerySyntaxError, match="query too long") as info:
        parse(ok + "b")
    assert info.value.position == MAX_QUERY_LENGTH


def test_term_limit() -> None:
    parse(" OR ".join(["x"] * MAX_TERMS))
    query = " OR ".join(["x"] * (MAX_TERMS + 1))
    with pytest.raises(QuerySyntaxError, match="too many terms") as info:
        parse(query)
    assert info.value.position == query.rindex("x")


def test_depth_limit() -> None:
    parse("(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH)
    with pytest.raises(QuerySyntaxError, match="nested too deeply") as info:
        parse("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1))
    assert info.value.position == MAX_DEPTH
