"""The streaming file scorer behind ``manage.py score`` (no database)."""

import io
import json

import pytest

from monitoring.scoring.batchio import score_stream


def run(data: bytes, fmt="jsonl", **kw):
    out = io.StringIO()
    stats = score_stream(io.BytesIO(data), out, fmt, batch_size=kw.pop("batch_size", 3), **kw)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    return lines, stats


def test_jsonl_keeps_order_and_ids_and_errors_do_not_stop_the_run():
    rows = [
        json.dumps({"id": "1", "text": "enak banget makanannya"}).encode(),
        b'{"id": 2, "text": "akun kami diretas!!", "lang": "id"}',
        b"this is not json",
        b'{"id": "4", "text": "caf\xe9 sucks"}',  # latin-1 byte: wrong encoding
        b'{"id": "5"}',
        b"",
        json.dumps({"id": "6", "text": "x" * 200_000}).encode(),
        json.dumps({"id": "7", "text": "The worst service ever"}).encode(),
    ]
    lines, stats = run(b"\n".join(rows) + b"\n")
    assert [x.get("id") for x in lines] == ["1", 2, None, "4", "5", "6", "7"]
    assert lines[0]["sentiment"]["label"] == "positive"
    assert lines[1]["triggers"][0]["label"] == "cyber_attack"
    assert lines[2]["error"]["code"] == "invalid_json"
    assert lines[3]["error"]["code"] == "invalid_encoding"
    assert lines[4]["error"]["code"] == "missing_text"
    assert lines[5]["error"]["code"] == "text_too_large"
    assert lines[6]["language"]["code"] == "en"
    assert stats == {"records": 7, "errors": 4}


def test_example_shape():
    text = "#boikot produk ini, adminnya goblok"
    lines, _ = run(json.dumps({"id": "42", "text": text}).encode())
    d = lines[0]
    assert d["id"] == "42"
    assert d["language"]["code"] == "id"
    assert d["provocation"]["score"] >= 0.5
    ev = d["provocation"]["evidence"]
    assert {"start", "end", "text", "reason"} <= set(ev[0])
    assert any(t["label"] == "provocation" for t in d["triggers"])
    assert {"type": "hashtag", "text": "#boikot", "start": 0, "end": 7} in d["entities"]
    assert isinstance(d["risk"], int)


def test_csv_input():
    data = b'id,text\na1,"mantap, pengiriman cepat"\na2,kebakaran di gudang\n'
    lines, _ = run(data, fmt="csv")
    assert [x["id"] for x in lines] == ["a1", "a2"]
    assert lines[1]["triggers"][0]["label"] == "unexpected_event"


def test_csv_without_text_column_is_rejected():
    with pytest.raises(ValueError):
        run(b"id,body\n1,hi\n", fmt="csv")


def test_streams_in_batches():
    n = 2_000
    data = b"\n".join(json.dumps({"id": i, "text": f"post {i} bagus"}).encode() for i in range(n))
    lines, stats = run(data, batch_size=100)
    assert stats["records"] == n and [x["id"] for x in lines] == list(range(n))


def test_progress_is_written_only_when_asked():
    prog = io.StringIO()
    run(b'{"id": 1, "text": "ok"}', progress=prog)
    assert "scored 1 records" in prog.getvalue()
