"""Normalisation rules, each checked on real-looking posts."""

import pytest

from monitoring.scoring.normalize import Resources, forms, normalise, tokenize, tokens_and_forms


@pytest.fixture(scope="module")
def res():
    return Resources()


def norm(text, res, lang="id"):
    return [t.norm for t in normalise(tokenize(text), res, lang)]


def test_tokens_keep_code_point_offsets():
    text = "Mantap 😍😍 @tokokita cek https://contoh.co.id/promo!"
    for tok in tokenize(text):
        assert text[tok.start : tok.end] == tok.text
    kinds = [t.kind for t in tokenize(text)]
    assert kinds.count("emoji") == 2 and "mention" in kinds and "url" in kinds
    url = next(t for t in tokenize(text) if t.kind == "url")
    assert url.text == "https://contoh.co.id/promo"


@pytest.mark.parametrize(
    "post, expected",
    [
        ("rasanya bagusss bgt", ["rasanya", "bagus", "banget"]),
        ("mantaaap pelayanannya", ["mantap", "pelayanannya"]),
        ("kereeen parah", ["keren", "parah"]),
        ("sooo goood", ["so", "good"]),
    ],
)
def test_repeated_letters(res, post, expected):
    assert norm(post, res, "en" if "goood" in post else "id") == expected


@pytest.mark.parametrize(
    "post, word",
    [
        ("dasar g0bl0k lu", "goblok"),
        ("a5u tenan", "asu"),
        ("b4ngs4t emang", "bangsat"),
        ("anj*ng kelakuan adminnya", "anjing"),
    ],
)
def test_number_and_symbol_spellings(res, post, word):
    assert word in norm(post, res)


def test_leet_does_not_touch_ordinary_numbers(res):
    assert norm("promo 4g cuma 25rb", res)[:2] == ["promo", "4g"]
    assert "anak-anak" in norm("anak2 suka banget", res)


@pytest.mark.parametrize(
    "post, expected",
    [
        ("gak enak bgt sumpah", ["tidak", "enak", "banget", "sumpah"]),
        ("yg jual kmrn blm bales", ["yang", "jual", "kemarin", "belum", "balas"]),
        ("gw udh nunggu 2 jam", ["saya", "sudah", "nunggu", "2", "jam"]),
    ],
)
def test_slang_and_abbreviations(res, post, expected):
    assert norm(post, res) == expected


def test_english_contractions_only_in_english(res):
    assert norm("i dont like it", res, "en") == ["i", "do", "not", "like", "it"]
    # 'u' is 'kamu' in Indonesian, 'you' in English
    assert norm("u jahat", res, "id")[0] == "kamu"
    assert norm("u suck", res, "en")[0] == "you"


def test_negation_marks_following_words(res):
    toks = normalise(tokenize("makanannya gak enak, tempatnya bagus"), res, "id")
    marked = {t.norm: t.negated for t in toks}
    assert marked["enak"] is True
    assert marked["bagus"] is False  # the comma ends the negation scope
    toks = normalise(tokenize("tidak bagus sama sekali"), res, "id")
    assert [t.negated for t in toks if t.norm == "bagus"] == [True]


def test_bukan_main_is_an_intensifier_not_a_negation(res):
    toks = normalise(tokenize("enaknya bukan main!"), res, "id")
    assert [t.norm for t in toks][:2] == ["enaknya", "sangat"]
    assert not any(t.negated for t in toks)


def test_intensifiers_are_unified(res):
    assert norm("mahal bgt", res) == norm("mahal banget", res) == ["mahal", "banget"]


def test_laughter(res):
    assert res.word_form("wkwkwkwk") == res.word_form("hahahaha") == "haha"
    assert norm("wkwkwk lucu", res) == norm("hahaha lucu", res) == ["tertawa", "lucu"]


def test_hashtags_split_into_words(res):
    toks = normalise(tokenize("#JanganBeliDisini"), res, "id")
    assert [t.norm for t in toks] == ["jangan", "beli", "disini"]
    toks = normalise(tokenize("ayo #boikotproduk"), res, "id")
    assert [t.norm for t in toks][1:] == ["boikot", "produk"]
    text = "ayo #boikotproduk"
    boikot = next(t for t in toks if t.norm == "boikot")
    assert text[boikot.start : boikot.end] == "boikot"


def test_emoji_and_emoticons_are_tokens(res):
    toks = normalise(tokenize("kecewa :( 😡"), res, "id")
    assert [(t.norm, t.kind) for t in toks] == [
        ("kecewa", "word"),
        (":(", "emoticon"),
        ("😡", "emoji"),
    ]


def test_code_mixed_post_keeps_english_words(res):
    assert norm("pelayanannya worst banget, so disappointed", res) == [
        "pelayanannya",
        "worst",
        "banget",
        ",",
        "so",
        "disappointed",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Mantap 😍😍 @tokokita cek https://contoh.co.id/promo! #JanganBeliDisini",
        "  :) mantap:)  :D\t<3\n^_^ x:) a@b @@x #a#b &#x (wkwkwk)... anj*ng *** $$ g0bl0k anak2",
        "kopi\u3000senja\u00a0enak\u2028lagi\u200bya 👍🏽👨\u200d👩\u200d👧 🇮🇩🇮🇩",
        "rock'n'roll' -_- >:( x-_-",
        "www.contoh.com/a, (https://x.id/b). tidak-bagus - ok -- oke- -oke 5km 2024",
        "\u039f\u0394\u039f\u03a3 \u0130stanbul",
        "",
        "   ",
        "#",
        "é\u0301 é ﷺ ¼ ①②",
    ],
)
def test_tokens_and_forms_in_one_pass_are_the_two_passes(text, res):
    """The one-pass version (pieces between white space, each tokenized once) gives the same
    tokens and forms as ``tokenize`` then ``forms`` on the whole text, offsets included."""
    for _ in range(2):  # once filling the piece cache, once reading it
        tokens, fs = tokens_and_forms(text, res)
        assert tokens == tokenize(text)
        assert fs == forms(tokenize(text), res)
