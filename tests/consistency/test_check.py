"""The consistency check (``incidents.consistency``) on approved lines built here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from incidents.consistency import check
from incidents.line import ApprovedLine

ROOT = Path(__file__).resolve().parents[2]

OUTAGE = ApprovedLine(
    statement=(
        "Pada 12 Maret 2026 terjadi gangguan sistem pembayaran yang berdampak pada sekitar "
        "2.000 pelanggan. Data kartu pelanggan tidak bocor dan tetap aman. Tim kami sedang "
        "melakukan perbaikan dan akan memberikan kabar terbaru melalui akun resmi."
    ),
    key_messages=("Perbaikan sedang berjalan",),
    must_not=("hacker", "kesalahan pelanggan"),
)


def categories(text: str, line: ApprovedLine = OUTAGE) -> set[str]:
    return set(check(text, line).categories)


def test_a_consistent_reply_sharing_no_words_with_the_statement_passes() -> None:
    text = "Hai kak, info kartu kakak tetap terlindungi kok 🙏 update berikutnya di akun resmi"
    assert not set(text.lower().split()) & {"data", "bocor", "aman", "pelanggan", "gangguan"}
    assert check(text, OUTAGE).findings == ()


def test_a_copy_of_the_statement_with_one_number_changed_is_flagged() -> None:
    assert check(OUTAGE.statement, OUTAGE).findings == ()
    changed = OUTAGE.statement.replace("2.000", "2.400")
    result = check(changed, OUTAGE)
    assert [f.category for f in result.findings] == ["number"]
    finding = result.findings[0]
    assert changed[finding.start : finding.end] == finding.excerpt == "2.400"
    assert "2,000" in finding.reason


@pytest.mark.parametrize("spelling", ["2.000", "2,000", "2000", "dua ribu", "2rb", "2 ribu", "2k"])
def test_every_spelling_of_the_approved_number_agrees(spelling: str) -> None:
    assert "number" not in categories(f"Sekitar {spelling} pelanggan terdampak kak")


@pytest.mark.parametrize("spelling", ["3.000", "2,500", "dua puluh ribu", "20rb", "2 juta"])
def test_other_numbers_are_flagged_whatever_their_spelling(spelling: str) -> None:
    assert "number" in categories(f"Sekitar {spelling} pelanggan terdampak kak")


def test_numbers_are_compared_by_kind() -> None:
    # A duration is not a count: the statement gives no duration, so none is compared.
    assert "number" not in categories("Tim kami sudah kerja 24 jam kak")
    line = ApprovedLine(statement="Promo kuota 20% berlaku, aplikasi down 4 jam.")
    assert "number" in categories("Promo kuota dua puluh lima persen", line)
    assert "number" not in categories("Promo kuota dua puluh persen", line)
    assert "number" in categories("down sekitar 2 jam", line)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Gangguan tgl 12 Maret kemarin", False),
        ("Gangguan tgl 12/03/2026 kemarin", False),
        ("The outage on March 12, 2026", False),
        ("Gangguan tgl 13 Maret kemarin", True),
        ("Gangguan tanggal 12 April", True),
        ("Kejadian 21/03/2026", True),
        ("Gangguan 12 Maret 2025", True),
    ],
)
def test_dates(text: str, flagged: bool) -> None:
    assert ("date" in categories(text)) is flagged


@pytest.mark.parametrize("negator", ["tidak", "tak", "gak", "nggak", "enggak", "bukan", "belum"])
def test_negation_flips_with_every_negator(negator: str) -> None:
    assert "negation" in categories(f"Data kartu pelanggan {negator} aman kak")
    assert "negation" not in categories(f"Data kartu pelanggan {negator} bocor kak")


def test_an_affirmed_negated_fact_is_a_flip_and_its_span_is_the_word() -> None:
    text = "Iya kak, data kartu memang bocor"
    findings = [f for f in check(text, OUTAGE).findings if f.category == "negation"]
    assert [f.excerpt for f in findings] == ["bocor"]


def test_belum_is_not_contradicted_by_a_future() -> None:
    line = ApprovedLine(statement="Hasil uji laboratorium belum keluar.")
    assert "negation" in categories("Hasil lab udah keluar kak", line)
    assert "negation" not in categories("Hasil lab akan keluar kak, mohon ditunggu", line)


def test_calling_a_report_a_hoax_negates_it() -> None:
    line = ApprovedLine(statement="Harga paket tidak berubah.", key_messages=("Harga tidak naik",))
    assert "negation" not in categories("Info harga naik itu hoaks kak", line)
    assert "negation" in categories("Kenaikan harga itu bukan hoaks kak", line)


@pytest.mark.parametrize(
    "text",
    [
        "Semua pelanggan bakal dapet refund penuh",
        "Kami kasih ganti rugi ke pelanggan",
        "Perbaikan pasti selesai besok pagi",
        "Saldo dikembalikan dalam 1x24 jam",
        "We will refund every order",
    ],
)
def test_promises_the_statement_does_not_make_are_flagged(text: str) -> None:
    assert "promise" in categories(text)


def test_a_promise_the_statement_makes_or_a_denied_one_passes() -> None:
    line = ApprovedLine(statement="Affected customers will receive a 10% discount voucher.")
    assert "promise" not in categories("You will get a 10% voucher for your next order", line)
    assert "promise" not in categories("Mohon maaf kak, tidak ada refund untuk kasus ini")


def test_must_not_phrases_in_any_spelling_with_the_span() -> None:
    text = "Ada serangan hekker ke sistem kami"
    findings = [f for f in check(text, OUTAGE).findings if f.category == "must_not"]
    assert [(f.excerpt, f.params["phrase"]) for f in findings] == [("hekker", "hacker")]
    assert "must_not" in categories("Ini kesalahan dari pelanggan sendiri")


@pytest.mark.parametrize(
    "text",
    [
        "Baca dulu dong pengumumannya!!",
        "Udah dibilang data aman, masih aja ngeyel",
        "Goblok, baca dong",
        "Did you even read our statement?",
        "KAKAK SALAH, DATA TETAP AMAN",
    ],
)
def test_hostile_or_arguing_tone(text: str) -> None:
    assert "tone" in categories(text)


def test_each_finding_names_its_span_and_reason() -> None:
    text = "Tenang kak, 5 ribu pelanggan dapat refund besok, ini ulah hacker"
    result = check(text, OUTAGE)
    assert result.flagged
    for finding in result.findings:
        assert text[finding.start : finding.end] == finding.excerpt
        assert finding.reason and finding.to_dict()["reason"] == finding.reason
    assert {"number", "promise", "must_not"} <= result.categories


def test_an_empty_approved_line_still_checks_promises_and_tone() -> None:
    empty = ApprovedLine()
    assert check("Halo kak, terima kasih sudah menghubungi kami", empty).findings == ()
    assert {"promise", "tone"} <= set(check("Refund besok, baca dulu dong", empty).categories)


def test_benchmark_prints_precision_and_recall_per_category() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "consistency.py")],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    for split in ("dev", "heldout", "all"):
        for category in ("number", "date", "negation", "promise", "must_not", "tone"):
            assert set(summary[split][category]) == {"precision", "recall", "support"}
    cases = [json.loads(row) for row in (ROOT / "benchmarks/data/consistency_cases.jsonl").open()]
    assert summary["all"]["cases"] == len(cases) >= 120
    for category in ("number", "date", "negation", "promise", "must_not", "tone"):
        assert summary["all"][category]["support"] >= 15
    assert summary["all"]["faithful"] >= 30
