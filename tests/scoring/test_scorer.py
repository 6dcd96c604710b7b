"""End-to-end behaviour of the scorer on real-looking posts."""

import json

import pytest

from monitoring.scoring import (
    SCORER_VERSION,
    ScoreInput,
    TenantExtensions,
    get_scorer,
)


@pytest.fixture(scope="module")
def scorer():
    return get_scorer()


def one(scorer, text, **kw):
    ext = kw.pop("extensions", None)
    return scorer.score_batch([ScoreInput(text=text, **kw)], ext)[0]


def test_get_scorer_is_cached(scorer):
    assert get_scorer() is scorer


def test_output_shape(scorer):
    r = one(scorer, "#boikot produk ini, adminnya goblok! https://www.contoh.com/x", id="42")
    d = r.to_dict()
    assert d["id"] == "42"
    assert set(d) >= {
        "id",
        "language",
        "sentiment",
        "provocation",
        "triggers",
        "entities",
        "risk",
        "scorer_version",
    }
    assert d["scorer_version"] == SCORER_VERSION
    assert set(d["sentiment"]["probabilities"]) == {"negative", "neutral", "positive"}
    assert abs(sum(d["sentiment"]["probabilities"].values()) - 1) < 1e-3
    assert 0 <= d["provocation"]["score"] <= 1 and 0 <= d["risk"] <= 100
    json.dumps(d)


@pytest.mark.parametrize(
    "text, code",
    [
        ("makanannya enak banget, pelayanan juga ramah. recommended!", "id"),
        ("gue udah nunggu 2 jam tp ga ada kabar dr cs nya", "id"),
        ("The new update is great, battery life is so much better now", "en"),
        ("jujur ini worth it banget sih, packaging nya aman", "id"),  # code-mixed
        ("I can't believe the customer service was this bad, never again", "en"),
        ("今日はとても良い天気ですね", "other"),
        ("Привет, как дела сегодня?", "other"),
        ("Hola amigos, el servicio de este lugar es muy bueno para todos", "other"),
    ],
)
def test_language(scorer, text, code):
    r = one(scorer, text)
    assert r.language == code, (text, r.language, r.language_confidence)
    assert 0 <= r.language_confidence <= 1


def test_language_hint_is_used(scorer):
    assert one(scorer, "ok", lang="en").language == "en"


@pytest.mark.parametrize(
    "text, label",
    [
        ("makanannya enak banget, pelayanannya ramah, pasti balik lagi!", "positive"),
        ("kecewa berat, pesanan datang telat 2 jam dan makanannya dingin", "negative"),
        ("gak enak sama sekali, mahal pula. kapok", "negative"),
        ("I love this phone, the camera is amazing", "positive"),
        ("Worst airline ever, lost my bag and nobody helped", "negative"),
    ],
)
def test_sentiment(scorer, text, label):
    r = one(scorer, text)
    assert r.sentiment == label, (text, r.probabilities)


def test_negation_flips_sentiment(scorer):
    pos = one(scorer, "pelayanannya bagus")
    neg = one(scorer, "pelayanannya tidak bagus")
    assert neg.probabilities["negative"] > pos.probabilities["negative"]
    assert pos.sentiment == "positive"


def test_provocation_with_evidence(scorer):
    text = "Admin @tokoabc goblok bgt, bangsat emang!"
    r = one(scorer, text)
    assert r.provocation >= 0.5 and r.is_provocative
    spans = {(e.text, e.reason) for e in r.provocation_evidence}
    assert ("goblok", "insult") in spans and ("bangsat", "insult") in spans
    for e in r.provocation_evidence:
        assert text[e.start : e.end] == e.text
    assert "provocation" in r.triggers


def test_obfuscated_insult_is_caught(scorer):
    r = one(scorer, "dasar g0bl0k lu")
    assert r.is_provocative
    # evidence quotes the text as written ("dasar goblok" is itself a lexicon phrase)
    assert r.provocation_evidence[0].text in ("g0bl0k", "dasar g0bl0k")


def test_incitement_hashtag_and_viralkan(scorer):
    r = one(scorer, "Produk ini bikin anak saya sakit. #boikot dan viralkan!! serbu kantornya")
    reasons = {e.reason for e in r.provocation_evidence}
    assert "incitement" in reasons
    assert r.is_provocative


def test_polite_complaint_is_not_provocative(scorer):
    r = one(scorer, "Min, paket saya belum sampai sudah 5 hari, tolong dicek ya. Terima kasih")
    assert r.provocation < 0.5 and not r.is_provocative


def test_negated_incitement_is_ignored(scorer):
    r = one(scorer, "jangan boikot dulu, tunggu klarifikasi resminya")
    assert not any(e.reason == "incitement" for e in r.provocation_evidence)


@pytest.mark.parametrize(
    "text, group",
    [
        ("dasar cina goblok, kalian semua bangsat", "cina"),  # group before the last insult
        ("KALIAN SEMUA GOBLOK DASAR YAHUDI 😡", "YAHUDI"),  # an emoji ends the post
        ("#usircina dasar goblok lo", "cina"),  # the group inside a hashtag
    ],
)
def test_targets_group_evidence_points_at_the_group_token(scorer, text, group):
    """The ``targets_group`` span is the token naming the group, not the post's last token."""
    r = one(scorer, text)
    start = text.index(group)
    expected = [(start, start + len(group), group)]
    for evidence in (r.provocation_evidence, r.triggers["provocation"]):
        found = [(e.start, e.end, e.text) for e in evidence if e.reason == "targets_group"]
        assert found == expected


@pytest.mark.parametrize(
    "text, label, word",
    [
        ("Hati-hati, ini hoaks! jangan disebar", "hoax", "hoaks"),
        ("SEBARKAN!! sebelum dihapus, info dari grup sebelah", "hoax", "SEBARKAN"),
        ("Akun IG resmi kami diretas, jangan klik link apapun", "cyber_attack", "diretas"),
        ("data pelanggan bocor dan dijual di forum", "cyber_attack", "bocor"),
        (
            "20 siswa keracunan setelah makan nasi kotak dari katering ini",
            "unexpected_event",
            "keracunan",
        ),
        ("Kebakaran di gudang pabrik tadi malam", "unexpected_event", "Kebakaran"),
        ("Direktur perusahaan ditangkap KPK terkait kasus korupsi", "negative_news", "ditangkap"),
        ("Sangat kecewa sama pelayanannya, lambat dan judes", "negative_perception", "kecewa"),
        ("Our account was hacked last night", "cyber_attack", "hacked"),
    ],
)
def test_triggers_with_evidence(scorer, text, label, word):
    r = one(scorer, text)
    assert label in r.triggers, (text, r.triggers)
    ev = r.triggers[label]
    assert any(e.text == word for e in ev), ev
    for e in ev:
        assert text[e.start : e.end] == e.text


def test_negated_perception_is_not_a_trigger(scorer):
    r = one(scorer, "harganya tidak mahal kok")
    assert "negative_perception" not in r.triggers


def test_entities(scorer):
    text = "Promo #HariBelanja dari @tokokita 😍 cek https://www.tokokita.co.id/promo?x=1"
    ents = one(scorer, text).entities
    types = {(e.type, e.text) for e in ents}
    assert ("hashtag", "#HariBelanja") in types
    assert ("mention", "@tokokita") in types
    assert ("emoji", "😍") in types
    assert ("url", "https://www.tokokita.co.id/promo?x=1") in types
    assert ("domain", "tokokita.co.id") in types
    for e in ents:
        if e.type != "domain":
            assert text[e.start : e.end] == e.text


def test_tenant_terms_and_lexicon(scorer):
    ext = TenantExtensions(
        terms=[("Kopi Senja", "brand"), ("Budi Santoso", "spokesperson")],
        lexicon=[("unexpected_event", "sakit perut"), ("provocation", "kopi basi", 0.7)],
        low_credibility_domains=["beritaheboh.example"],
    )
    text = "Habis minum kopi senja langsung sakit perut. kata budi santoso aman? https://beritaheboh.example/a"
    r = one(scorer, text, extensions=ext)
    terms = {(e.text, e.kind) for e in r.entities if e.type == "term"}
    assert terms == {("kopi senja", "brand"), ("budi santoso", "spokesperson")}
    assert "unexpected_event" in r.triggers
    assert r.triggers["hoax"][0].reason == "low_credibility_domain"
    # without extensions the same text has none of these
    plain = one(scorer, text)
    assert not [e for e in plain.entities if e.type == "term"]
    assert "hoax" not in plain.triggers


def test_tenant_lexicon_rejects_unknown_label():
    with pytest.raises(ValueError):
        TenantExtensions(lexicon=[("scandal", "x")])


@pytest.mark.parametrize(
    "bad, code",
    [
        (b"\xff\xfe\x00\x01garbage", "invalid_encoding"),
        ("abc\x00\x00def", "binary_content"),
        ("x" * 100_001, "text_too_large"),
        (None, "missing_text"),
        (12345, "invalid_text"),
        ("bad \ud800 surrogate", "invalid_encoding"),
    ],
)
def test_bad_input_gives_item_error(scorer, bad, code):
    results = scorer.score_batch([ScoreInput(text="bagus", id=1), ScoreInput(text=bad, id=2)])
    assert results[0].ok and results[0].sentiment == "positive"
    assert results[1].error["code"] == code
    assert results[1].to_dict()["id"] == 2


@pytest.mark.parametrize("text", ["", "   \n\t ", "😂😂😂", "...", "https://x.co"])
def test_empty_and_symbol_only_texts_have_defined_results(scorer, text):
    r = one(scorer, text)
    assert r.ok
    assert r.provocation == 0.0 and r.triggers == {}
    assert sum(r.probabilities.values()) == pytest.approx(1.0, abs=1e-3)


def test_batch_keeps_order_and_matches_single(scorer):
    texts = ["enak banget", "goblok lu", "the worst service", "", "kebakaran di pasar"]
    batch = scorer.score_batch(texts)
    for t, r in zip(texts, batch, strict=False):
        single = scorer.score_batch([t])[0]
        assert single.to_dict() == r.to_dict()


@pytest.mark.parametrize(
    "text",
    [
        "Babi guling dan sate babi di sini enak banget, wajib coba",
        "ayam bakar sama ikan bakarnya mantap",
        "anjing saya suka banget makanan ini",
        "enak gila sih ini",
    ],
)
def test_food_pets_and_praise_are_not_provocative(scorer, text):
    assert not one(scorer, text).is_provocative


def test_repeated_insult_counts_once_but_is_reported_each_time(scorer):
    r = one(scorer, "babi babi babi")
    assert len(r.provocation_evidence) == 3
    assert r.provocation < 0.5
    assert one(scorer, "dasar babi lu").is_provocative


def test_term_prefilter_keeps_every_spacy_match_in_non_ascii_text():
    """Texts go to spaCy only when they may hold a term, non-ASCII ones included: the lower case
    of a token is a piece of the text's lower case once the final sigma is folded (in Greek
    ``ODOS:A`` in capitals the text's sigma lowers to the inner form, the token's alone to the
    final form), and a dotted capital I lowers to two characters in the text as in the token.
    Every match spaCy finds on every text is kept."""
    from monitoring.scoring.entities import TermMatcher, _may_hold

    greek = "ΟΔΟΣ"
    terms = ((greek, "place"), ("İstanbul Kopi", "brand"), ("Kopi Senja", "brand"))
    texts = [
        "ΟΔΟΣ:Α",  # noqa: RUF001
        "σπίτι ΟΔΟΣ-ΑΘΗΝΑ",
        "ΜΙΑ ΟΔΟΣ",  # noqa: RUF001
        "ΟΔΟΣ/ΑΘΗΝΑ",
        "İSTANBUL KOPI güzel",
        "i̇stanbul kopi 😍",
        "kopi senja enak ☕",
        "KOPİ SENJA",  # İ lowers to i + U+0307: a token "kopi̇", no match
        "ΟΔΟΙ και δρόμοι",
        "kopi pagi 😍 senja sore",
    ]
    matcher = TermMatcher()
    found = matcher.match(texts, terms)
    spacy_matcher, _, needles = matcher._matcher(terms)
    nlp = matcher._spacy()
    every = [
        [(doc[s:e].start_char, doc[s:e].end_char) for _, s, e in spacy_matcher(doc)]
        for doc in nlp.pipe(texts)
    ]
    assert [[(e.start, e.end) for e in hits] for hits in found] == every
    assert every[0] == [(0, 4)] and every[4] == [(0, 13)] and every[5] == [(0, 14)]
    assert all(_may_hold(text, needles) for text, spans in zip(texts, every, strict=True) if spans)
    assert not _may_hold(texts[8], needles)  # non-ASCII texts are skipped too


def test_loaded_models_are_left_out_of_full_collections(scorer):
    """The process-wide scorer's models and spaCy's vocabulary are in the collector's permanent
    generation (``settle``): full collections do not walk them after every few batches."""
    import gc

    one(scorer, "kopi senja enak", extensions=TenantExtensions(terms=[("Kopi Senja", "brand")]))
    collected = {id(o) for o in gc.get_objects()}
    assert gc.get_freeze_count() > 0
    assert id(scorer) not in collected and id(scorer.res.known) not in collected
    assert id(scorer._terms._nlp.vocab) not in collected


def test_a_scoring_process_collects_garbage_at_the_batch_pace(scorer):
    import gc
    import weakref

    from monitoring.scoring import lifetime

    assert gc.isenabled()
    assert gc.get_threshold() == lifetime.BATCH_THRESHOLDS
    # the loaded scorer was frozen out of full collections; a cycle made since is still freed

    class Node:
        pass

    node = Node()
    node.self = node
    alive = weakref.ref(node)
    del node
    gc.collect()
    assert alive() is None
