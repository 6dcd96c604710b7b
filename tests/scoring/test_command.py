"""``manage.py score`` runs without a database (pytest-django blocks DB access here)."""

import json
import sys
import types

import pytest
from django.core.management import CommandError, call_command

from monitoring.scoring import TenantExtensions


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


def test_score_command_tenant_uses_selector(tmp_path, monkeypatch):
    calls = []

    def fake_selector(slug):
        calls.append(slug)
        if slug != "acme":
            raise LookupError(slug)
        return TenantExtensions(terms=[("Kopi Senja", "brand")])

    fake = types.ModuleType("monitoring.selectors")
    fake.scoring_extensions_for_tenant = fake_selector
    monkeypatch.setitem(sys.modules, "monitoring.selectors", fake)
    src = tmp_path / "p.jsonl"
    dst = tmp_path / "o.jsonl"
    src.write_text('{"id": 1, "text": "kopi senja enak"}\n', encoding="utf-8")
    call_command("score", input=str(src), output=str(dst), tenant="acme")
    out = json.loads(dst.read_text(encoding="utf-8"))
    assert {"type": "term", "text": "kopi senja", "start": 0, "end": 10, "kind": "brand"} in out[
        "entities"
    ]
    with pytest.raises(CommandError):
        call_command("score", input=str(src), output=str(dst), tenant="nope")
    assert calls == ["acme", "nope"]
