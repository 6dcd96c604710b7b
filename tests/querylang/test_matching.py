"""Matching semantics of compiled queries and of the many-query matcher."""

from __future__ import annotations

import pytest

from monitoring.querylang import (
    Matcher,
    Not,
    Term,
    compile_query,
    normalize,
    prepare,
    tokenize,
)


def matches(query: str, text: str) -> bool:
    return compile_query(query).matches(text)


def test_normalize_folds_case_and_accents() -> None:
    assert normalize("Café ÉLITE Straße ﬁlm") == "cafe elite strasse film"


def test_tokenize_words_hashtags_handles() -> None:
    assert tokenize("Ayo #Boikot_Produk, kata @Budi@Mastodon.social & budi@mail.com!") == [
        ("ayo",),
        ("#boikot_produk", "boikot", "produk"),
        ("kata",),
        ("@budi@mastodon.social", "@budi", "budi"),
        ("budi",),
        ("mail",),
        ("com",),
    ]


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        # case and accents
        ("café", "Ngopi di CAFE baru", True),
        ("cafe", "Ngopi di Café baru", True),
        ("CAFÉ", "ngopi di cafe", True),
        # word boundaries
        ("boikot", "Ayo boikot!", True),
        ("boikot", "boikotan terus", False),
        ("boikot", "memboikot produk", False),
        ("boikot*", "boikotan terus", True),
        ("boikot*", "memboikot produk", False),
        ("boikot", "BOIKOT.", True),
        ("bbm", "harga-BBM naik", True),
        # phrases
        ('"harga bbm naik"', "Harga BBM naik lagi", True),
        ('"harga bbm naik"', "harga naik, bbm langka", False),
        ('"harga bbm naik"', "harga bbm", False),
        ("covid-19", "Kasus COVID 19 naik", True),
        ("covid-19", "covid naik 19 kasus", False),
        # proximity
        ('"harga bbm"~2', "bbm dan harga", True),
        ('"harga bbm"~2', "harga beras dan bbm", False),
        ('"harga bbm"~3', "harga beras dan bbm", True),
        # NOT and -term
        ("banjir -promo", "Banjir di Bekasi", True),
        ("banjir -promo", "banjir promo diskon", False),
        ("banjir NOT promo", "banjir promo diskon", False),
        ('banjir -"info lengkap"', "banjir, info lengkap di bio", False),
        ('banjir -"info lengkap"', "banjir: lengkap info", True),
        # OR and grouping
        ("(jakarta OR bekasi) banjir", "banjir bekasi", True),
        ("(jakarta OR bekasi) banjir", "banjir bogor", False),
        # hashtags: term finds the word inside, hashtag finds only the hashtag
        ("boikot", "Ayo #boikot", True),
        ("#boikot", "Ayo #Boikot", True),
        ("#boikot", "ayo boikot", False),
        ("#boikot", "#boikotprodukx", False),
        ("#boikot*", "#BoikotProdukX", True),
        ("boikot", "#boikot_produk", True),
        ("produk", "#boikot_produk", True),
        ('"ayo boikot"', "ayo #boikot", True),
        ('"ayo #boikot"', "ayo boikot", False),
        # handles
        ("@pln_123", "Lapor @PLN_123 listrik padam", True),
        ("@pln_123", "pln 123 listrik padam", False),
        ("pln", "Lapor @PLN_123 listrik padam", True),
        ("@budi", "cc @budi@mastodon.social", True),
        ("@budi@mastodon.social", "cc @budi", False),
        ("@budi", "kirim ke budi@mail.com", False),
        ("@pln*", "cc @pln_123", True),
    ],
)
def test_semantics(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


def test_compile_refuses_hand_built_negative_tree() -> None:
    with pytest.raises(ValueError):
        compile_query(Not(Term("x")))


def test_matcher_returns_ids_in_query_order() -> None:
    queries = {
        "brand": "merekx OR #merekx OR @merekx_id",
        "crisis": '(boikot* OR "tarik produk") (merekx OR #merekx)',
        "competitor": "merek_y -promo",
        "flood": '"banjir jakarta"~3 -hoaks',
    }
    matcher = Matcher([(key, compile_query(q)) for key, q in queries.items()])
    assert len(matcher) == 4
    assert matcher.match("Ayo BOIKOTAN #MerekX sekarang") == ["brand", "crisis"]
    assert matcher.match("Jakarta kembali banjir") == ["flood"]
    assert matcher.match("Jakarta kembali banjir, hoaks!") == []
    assert matcher.match("merek y promo") == []
    assert matcher.match("Merek-Y keren") == ["competitor"]
    assert matcher.match("") == []
    doc = prepare("cc @merekx_id")
    assert matcher.match(doc) == ["brand"]


def test_matcher_only_evaluates_candidates() -> None:
    matcher = Matcher(
        [(i, compile_query(q)) for i, q in enumerate(["alpha beta", "gamma* -delta", "x y z"])]
    )
    assert matcher.candidates(prepare("nothing relevant here")) == set()
    assert matcher.candidates(prepare("gammaray")) == {1}
