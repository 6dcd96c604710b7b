"""``manage.py score`` runs without a database (pytest-django blocks DB access here)."""

import json

import pytest
from django.core.management import CommandError, call_command


def test_score_command_jsonl(tmp_path):
    src = tmp_path / "posts.jsonl"
    dst = tmp_path / "scored.jsonl"
    src.write_text(
        "\n".join(
            json.dumps(x)
            for x in [
                {"id": "42", "text": "#boikot produk ini, adminnya goblok"},
                {"id": "43", "text": ""},
                {"id": "44", "text": "Great service, thank you!", "lang": "en"},
            ]
        ),
        encoding="utf-8",
    )
    call_command("score", "--input", str(src), "--output", str(dst))
    out = [json.loads(x) for x in dst.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in out] == ["42", "43", "44"]
    assert out[0]["provocation"]["score"] >= 0.5
    assert out[2]["sentiment"]["label"] == "positive"


def test_score_command_csv(tmp_path):
    src = tmp_path / "posts.csv"
    dst = tmp_path / "scored.jsonl"
    src.write_text("text\nakun kami diretas\n", encoding="utf-8")
    call_command("score", input=str(src), output=str(dst))
    out = json.loads(dst.read_text(encoding="utf-8"))
    assert out["id"] == "1" and out["triggers"][0]["label"] == "cyber_attack"


def test_score_command_with_a_tenant_adds_its_terms_and_lexicon(tmp_path, tenant):
    from monitoring.models import LexiconEntry, LowCredibilityDomain, TrackedTerm

    TrackedTerm.objects.create(tenant=tenant, text="Kopi Senja", kind="brand")
    LexiconEntry.objects.create(tenant=tenant, label="unexpected_event", phrase="sakit perut")
    LowCredibilityDomain.objects.create(tenant=tenant, domain="beritaheboh.example")
    src = tmp_path / "p.jsonl"
    dst = tmp_path / "o.jsonl"
    src.write_text(
        '{"id": 1, "text": "kopi senja bikin sakit perut https://beritaheboh.example/x"}\n',
        encoding="utf-8",
    )
    call_command("score", input=str(src), output=str(dst), tenant=tenant.slug)
    out = json.loads(dst.read_text(encoding="utf-8"))
    assert {"type": "term", "text": "kopi senja", "start": 0, "end": 10, "kind": "brand"} in out[
        "entities"
    ]
    labels = {t["label"] for t in out["triggers"]}
    assert {"unexpected_event", "hoax"} <= labels
    call_command("score", input=str(src), output=str(dst))  # without --tenant: none of it
    plain = json.loads(dst.read_text(encoding="utf-8"))
    assert not any(e["type"] == "term" for e in plain["entities"])
    with pytest.raises(CommandError):
        call_command("score", input=str(src), output=str(dst), tenant="no-such-tenant")
