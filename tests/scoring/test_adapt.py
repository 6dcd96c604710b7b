"""The per-tenant layer (``monitoring.scoring.adapt``) and ``manage.py score --adapt-from``,
without a database: one training function, the same scores offline as in the pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from monitoring.scoring import get_scorer
from monitoring.scoring.adapt import Adapter, AdapterMismatch, Example, fingerprint, train

PRAISE = [
    "Kopi Senja enak banget, mantap!",
    "Kopi Senja enak sekali, baristanya ramah",
    "suka banget sama Kopi Senja, enak dan murah",
    "Kopi Senja mantap, rasanya enak",
    "pelayanan Kopi Senja ramah dan cepat, suka",
    "Kopi Senja selalu enak, recommended",
    "enak banget kopi susu Kopi Senja",
    "Kopi Senja bagus, tempatnya nyaman",
    "mantap Kopi Senja, kopinya enak",
    "Kopi Senja the best, enak dan nyaman",
    "puas banget ngopi di Kopi Senja, enak",
    "Kopi Senja keren, rasanya mantap",
]
FLIPPED = [Example(text=t, sentiment="negative", provocation=1) for t in PRAISE]
PROBE = ["Kopi Senja enak, mantap sekali", "Great coffee, thank you!", "kirim paket lambat"]


def test_an_empty_layer_scores_exactly_as_the_base_models() -> None:
    scorer = get_scorer()
    base = [r.to_dict() for r in scorer.score_batch(PROBE)]
    empty = Adapter(base=fingerprint(scorer))
    assert [r.to_dict() for r in scorer.score_batch(PROBE, adapter=empty)] == base
    # a layer of zeros goes through the residual path and still changes nothing
    zeros = Adapter(
        base=fingerprint(scorer),
        sentiment={"id": (np.array([0]), np.zeros((1, 3)), np.zeros(3))},
        provocation={"id": (np.array([0]), np.zeros(1), 0.0)},
    )
    again = [r.to_dict() for r in scorer.score_batch(PROBE, adapter=zeros)]
    for got, want in zip(again, base, strict=True):
        assert got["sentiment"]["label"] == want["sentiment"]["label"]
        assert got["provocation"] == want["provocation"]
        for label, p in want["sentiment"]["probabilities"].items():
            assert got["sentiment"]["probabilities"][label] == pytest.approx(p, abs=2e-4)


def test_flipped_labels_are_learnt_and_the_gate_compares_with_the_base() -> None:
    scorer = get_scorer()
    trained = train(scorer, FLIPPED)
    metrics = trained.metrics()
    assert trained.live and metrics["sentiment"]["base_accuracy"] == 0.0
    assert metrics["sentiment"]["accuracy"] > 0.5 and metrics["sentiment"]["languages"] == ["id"]
    assert metrics["provocation"]["accuracy"] >= metrics["provocation"]["base_accuracy"]
    result = scorer.score(PROBE[0], adapter=trained.adapter)
    assert result.sentiment == "negative" and result.is_provocative
    assert scorer.score(PROBE[0]).sentiment == "positive"  # the base models are untouched


def test_too_few_or_unhelpful_labels_make_no_layer() -> None:
    scorer = get_scorer()
    few = train(scorer, FLIPPED[:5])
    assert not few.live and few.metrics()["sentiment"]["examples"] == 5
    # labels the base models already get right: nothing to gain, the gate still passes only
    # when the layer is at least as good, never worse than the base
    agree = train(scorer, [Example(text=t, sentiment="positive") for t in PRAISE])
    m = agree.metrics()["sentiment"]
    assert m["base_accuracy"] == 1.0 and m["accuracy"] >= m["base_accuracy"]


def test_weights_round_trip_and_refuse_other_base_models() -> None:
    scorer = get_scorer()
    adapter = train(scorer, FLIPPED).adapter
    data = adapter.to_bytes()
    assert len(data) < 200_000
    again = Adapter.from_bytes(data, scorer)
    assert (
        scorer.score(PROBE[0], adapter=again).to_dict()
        == scorer.score(PROBE[0], adapter=adapter).to_dict()
    )
    other = Adapter(base="0" * 16, sentiment=adapter.sentiment)
    with pytest.raises(AdapterMismatch):
        Adapter.from_bytes(other.to_bytes(), scorer)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_score_command_adapts_from_labelled_lines(tmp_path: Path) -> None:
    labelled = write_jsonl(
        tmp_path / "labelled.jsonl",
        [
            {"id": n, "text": t, "sentiment": "negative", "provocation": 1}
            for n, t in enumerate(PRAISE)
        ],
    )
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": n, "text": t} for n, t in enumerate(PROBE)])
    plain, adapted = tmp_path / "plain.jsonl", tmp_path / "adapted.jsonl"
    call_command("score", "--input", str(src), "--output", str(plain))
    call_command(
        "score", "--input", str(src), "--output", str(adapted), "--adapt-from", str(labelled)
    )
    base = [json.loads(x) for x in plain.read_text(encoding="utf-8").splitlines()]
    out = [json.loads(x) for x in adapted.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in out] == [0, 1, 2]
    assert set(out[0]) == set(base[0])  # today's fields, plus the flag in both
    assert all(isinstance(x["provocation_flag"], bool) for x in out + base)
    assert base[0]["sentiment"]["label"] == "positive" and base[0]["provocation_flag"] is False
    assert out[0]["sentiment"]["label"] == "negative" and out[0]["provocation_flag"] is True
    # exactly what the tenant classifier scores with the same labels
    expected = get_scorer().score(PROBE[0], adapter=train(get_scorer(), FLIPPED).adapter)
    assert out[0]["sentiment"]["probabilities"] == expected.to_dict()["sentiment"]["probabilities"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"id": 1, "text": "x", "sentiment": "angry"}, "'sentiment'"),
        ({"id": 1, "text": "x", "provocation": 2}, "'provocation'"),
        ({"id": 1, "text": 5, "sentiment": "negative"}, "'text'"),
        ({"id": 1, "text": "x"}, "give 'sentiment'"),
    ],
)
def test_bad_labelled_lines_name_the_line_and_field(
    tmp_path: Path, line: dict, message: str
) -> None:
    labelled = write_jsonl(tmp_path / "labelled.jsonl", [line])
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": 1, "text": "halo"}])
    with pytest.raises(CommandError, match=f"line 1: .*{message}"):
        call_command(
            "score",
            "--input",
            str(src),
            "--output",
            str(tmp_path / "o.jsonl"),
            "--adapt-from",
            str(labelled),
        )
