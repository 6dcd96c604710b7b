"""``manage.py backtest-rule --mentions``: ingest items scored and replayed in published order."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.alerting.helpers import T0
from tests.alerting.test_mention_rules import CLAIM, COPIES


def item(external_id: str, minutes: float, text: str, handle: str, **extra: object) -> dict:
    at = (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S+07:00")
    out = {
        "platform": "x",
        "external_id": external_id,
        "text": text,
        "published_at": at,
        "author": {"handle": handle},
    }
    out.update(extra)
    return out


def run(tmp_path: Path, items: list[dict], rule: str, *extra: str) -> list[dict]:
    src = tmp_path / "stream.jsonl"
    out = tmp_path / "alerts.jsonl"
    src.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    call_command(
        "backtest-rule", "--mentions", str(src), "--rule", rule, "--output", str(out), *extra
    )
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_hoax_spread_alert_and_clusters(tmp_path: Path) -> None:
    posts = [CLAIM, *COPIES]
    # written out of order: the replay sorts by published_at
    items = [item(f"m{i}", 7 * i, text, f"acct{i}") for i, text in enumerate(posts)][::-1]
    items.append(
        item("other", 3, "Pelayanan cabang Dago ramah, kopinya enak dan tempatnya nyaman", "z")
    )
    clusters_path = tmp_path / "clusters.jsonl"
    alerts = run(tmp_path, items, "hoax-spread", "--clusters", str(clusters_path))
    assert len(alerts) == 1
    alert = alerts[0]
    third = next(i for i in items if i["external_id"] == "m2")  # the third author's post
    assert alert["timestamp"] == third["published_at"]  # verbatim
    assert alert["rule"] == "hoax-spread"
    assert alert["cluster"]["first_poster"] == "acct0"
    assert {"platform": "x", "external_id": "m0", "author": "acct0"} in alert["mentions"]
    clusters = [json.loads(x) for x in clusters_path.read_text().splitlines()]
    assert clusters == [
        {
            "cluster_id": "x:m0",
            "external_ids": [f"m{i}" for i in range(len(posts))],
            "mentions": [
                {"platform": "x", "external_id": f"m{i}", "author": f"acct{i}"}
                for i in range(len(posts))
            ],
        }
    ]


def test_clusters_of_three_authors_are_written_at_every_sensitivity(tmp_path: Path) -> None:
    """At low the rule alerts from five authors; ``--clusters`` still writes every cluster of
    three (the issue's definition)."""
    items = [item(f"m{i}", 7 * i, CLAIM, f"acct{i}") for i in range(3)]
    clusters_path = tmp_path / "clusters.jsonl"
    alerts = run(
        tmp_path,
        items,
        "hoax-spread",
        "--sensitivity",
        "low",
        "--clusters",
        str(clusters_path),
    )
    assert alerts == []
    clusters = [json.loads(x) for x in clusters_path.read_text().splitlines()]
    assert [c["external_ids"] for c in clusters] == [["m0", "m1", "m2"]]


def test_owned_account(tmp_path: Path) -> None:
    history = [
        item(
            f"h{i}",
            60 * 24 * (i // 3) + 60 * (2 + 3 * (i % 3)),
            "Selamat pagi! Promo hari ini ada di https://kopisenja.id/promo",
            "KopiSenja",
            lang="id",
        )
        for i in range(25)
    ]
    hijack = item(
        "evil",
        60 * 24 * 9 + 60 * 20,
        "FREE BITCOIN giveaway, claim now: https://bit.ly/x1",
        "kopisenja",
        lang="en",
    )
    owned = tmp_path / "accounts.json"
    owned.write_text(json.dumps([{"platform": "x", "handle": "@KopiSenja"}]))
    alerts = run(tmp_path, [*history, hijack], "owned-account", "--owned", str(owned))
    assert len(alerts) == 1
    assert alerts[0]["account"] == {"platform": "x", "handle": "kopisenja"}
    assert alerts[0]["mentions"] == [
        {"platform": "x", "external_id": "evil", "author": "kopisenja"}
    ]
    assert "link domain: bit.ly" in alerts[0]["explanation"]
    with pytest.raises(CommandError) as info:
        run(tmp_path, history, "owned-account")
    assert info.value.returncode == 2 and "--owned" in str(info.value)


def test_influential_author_uses_the_scorer(tmp_path: Path) -> None:
    items = [
        item(
            "1",
            0,
            "Pelayanan Kopi Senja buruk sekali, kecewa berat, tidak akan beli lagi!",
            "big",
            author={"handle": "big", "followers": 3_000_000},
        ),
        item(
            "2",
            1,
            "Kopi Senja enak banget, terima kasih!",
            "big2",
            author={"handle": "big2", "followers": 3_000_000},
        ),
    ]
    alerts = run(tmp_path, items, "influential-author")
    assert [a["author"]["handle"] for a in alerts] == ["big"]


def test_nothing_fires_gives_an_empty_file(tmp_path: Path) -> None:
    assert run(tmp_path, [item("1", 0, "halo semua", "a")], "provocation-burst") == []
    assert (tmp_path / "alerts.jsonl").read_text() == ""


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "line 2: not JSON"),
        (json.dumps({"platform": "x", "external_id": "2", "text": "hai"}), "line 2 (published_at)"),
        (
            json.dumps(
                {
                    "platform": "myspace",
                    "external_id": "2",
                    "text": "hai",
                    "published_at": "2026-03-02T00:00:00Z",
                }
            ),
            "line 2 (platform)",
        ),
    ],
)
def test_a_bad_line_exits_2_naming_it(tmp_path: Path, line: str, expected: str) -> None:
    src = tmp_path / "stream.jsonl"
    src.write_text(json.dumps(item("1", 0, "halo", "a")) + "\n" + line + "\n")
    with pytest.raises(CommandError) as info:
        call_command(
            "backtest-rule",
            "--mentions",
            str(src),
            "--rule",
            "hoax-spread",
            "--output",
            str(tmp_path / "o.jsonl"),
        )
    assert info.value.returncode == 2 and expected in str(info.value)


def test_rule_and_input_must_match(tmp_path: Path) -> None:
    src = tmp_path / "s.csv"
    src.write_text("timestamp,value\n")
    with pytest.raises(CommandError) as info:
        call_command(
            "backtest-rule",
            "--series",
            str(src),
            "--rule",
            "hoax-spread",
            "--output",
            str(tmp_path / "o.jsonl"),
        )
    assert info.value.returncode == 2 and "--mentions" in str(info.value)
