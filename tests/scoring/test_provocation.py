"""Provocation: the bigger Indonesian lexicon, the slang-collision fix, the negative-context rule.

Ordinary posts whose words collide with lexicon entries through the slang dictionary (``lemot`` ->
``lambat``, ``bokin`` -> ``pacar``, ``tahi`` -> ``kotoran``) or that use ordinary words found in
violent phrases (``pukul`` as o'clock, ``rujak``, ``tusuk``) must not be flagged; hateful posts
without a swear word must be.
"""

import json

import pytest

from monitoring.scoring import ScoreInput, get_scorer
from monitoring.scoring.lexicon import PhraseIndex, builtin_phrases, phrase_variants
from monitoring.scoring.normalize import DATA_DIR, Resources, normalise, tokenize
from monitoring.scoring.provocation import CONTEXT_WEIGHT, NEGATIVE_CONTEXT, score_provocation


@pytest.fixture(scope="module")
def scorer():
    return get_scorer()


def one(scorer, text):
    return scorer.score_batch([ScoreInput(text=text)])[0]


ORDINARY = [
    "pengiriman lambat banget, sudah seminggu belum sampai",
    "aplikasinya lambat sekali kalau dibuka sore hari",
    "makan malam bareng bokin di kafe ini, tempatnya nyaman",
    "pacar saya suka banget kopi susu di sini",
    "rapat dimulai pukul 10 pagi di kantor pusat",
    "tokonya buka pukul 08.00 sampai pukul 21.00",
    "beli rujak buah di depan kantor, segar sekali",
    "rujak cingur di warung ini paling enak se-surabaya",
    "sate tusuk ayamnya enak, bumbunya meresap",
    "tusuk gigi di meja habis, tolong ditambah",
    "kotoran di lantai sudah dibersihkan petugas",
    "lantainya bersih, tidak ada kotoran sama sekali",
    "promo harga bantai akhir tahun, diskon sampai 70 persen",
    "obat semprot ini ampuh basmi kecoa di dapur",
    "hama wereng bikin panen turun tahun ini",
    "daging cincang untuk isian martabak",
    "jaringannya lemot banget hari ini, tolong diperbaiki",
    "pelayanan lama dan ada anak kecoa di meja, jorok sekali",
    "kurirnya tidak becus, paket saya rusak",
]

HATEFUL_WITHOUT_SWEARING = [
    "mereka itu bukan manusia, usir dari indonesia",
    "pejabat tikus berdasi semua, hukum gantung saja",
    "aku tahu rumahmu, tunggu pembalasanku",
    "kamu manusia tidak berguna, lebih baik mati sana",
    "kaum pendatang itu penyakit masyarakat",
    "ayo geruduk kantornya, bakar tokonya sekalian",
    "dasar penjilat penguasa, buzzer bayaran",
    "pemimpin dungu seperti dia pantas dihukum mati",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_posts_are_not_flagged(scorer, text):
    r = one(scorer, text)
    assert not r.is_provocative, r.provocation_evidence
    assert "provocation" not in r.triggers


@pytest.mark.parametrize("text", HATEFUL_WITHOUT_SWEARING)
def test_hate_without_swear_words_is_flagged(scorer, text):
    r = one(scorer, text)
    assert r.is_provocative, (r.provocation, r.provocation_evidence)


def test_slang_mapped_lexicon_word_matches_only_as_written():
    res = Resources()
    # one-word phrases are never rewritten into the ordinary word their slang maps to
    assert res.id_slang["lemot"] == "lambat" and phrase_variants("lemot", res) == {("lemot",)}
    assert phrase_variants("bokin", res) == {("bokin",)}
    assert phrase_variants("tahi", res) == {("tahi",)}
    # a longer phrase keeps its slang variant when a word of it stays as written
    assert phrase_variants("mati aja", res) == {("mati", "aja"), ("mati", "saja")}
    index = PhraseIndex(builtin_phrases(res))

    def provocation_spans(text):
        toks = normalise(tokenize(text), res, "id")
        return [(m.start, m.end) for m in index.match(toks) if m.phrase.label == "provocation"]

    assert provocation_spans("dasar lemot") == [(0, 11)]  # the slang word as written still matches
    assert provocation_spans("koneksi lambat") == []
    assert provocation_spans("kotoran kucing") == []
    assert provocation_spans("pacar saya") == []


def test_no_bare_ordinary_word_in_the_lexicon():
    res = Resources()
    singles = {
        p.tokens[0]
        for p in builtin_phrases(res)
        if p.label == "provocation" and p.reason != "safe" and len(p.tokens) == 1
    }
    for word in ("pukul", "tusuk", "rujak", "sampah", "tikus", "kecoa", "hama", "lambat", "pacar"):
        assert word not in singles, word


def _score(text, p_negative):
    res = Resources()
    index = PhraseIndex(builtin_phrases(res))
    tokens = tokenize(text)
    toks = normalise(tokens, res, "id")
    return score_provocation(text, tokens, toks, index.match(toks), {}, p_negative)


def test_weak_hit_counts_inside_a_clearly_negative_post():
    text = "kelakuan orang itu terkutuk"  # "terkutuk" alone is a weak dehumanisation hit
    assert _score(text, 0.2).score < 0.5
    strong = _score(text, NEGATIVE_CONTEXT + 0.1)
    assert strong.score >= 0.5
    assert [e.reason for e in strong.evidence] == ["dehumanisation"]
    assert CONTEXT_WEIGHT >= 0.5


def test_incitement_words_do_not_count_on_context_alone():
    # "turunkan" (lower the price) in an angry complaint is not provocation
    assert _score("tolong turunkan harga, mahal sekali, kecewa", 0.95).score < 0.5


def test_every_lexicon_list_has_its_provenance_recorded():
    provenance = (DATA_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    for path in sorted(DATA_DIR.iterdir()):
        if path.suffix in (".json", ".tsv", ".txt") and not path.name.startswith("LICENSE"):
            assert f"`{path.name}`" in provenance, path.name
    extra = json.loads((DATA_DIR / "provocation_id.json").read_text(encoding="utf-8"))
    phrases = [p for k, v in extra.items() if not k.startswith("_") for p in v["phrases"]]
    assert len(phrases) >= 300
