"""Streaming file scoring used by ``manage.py score`` (no Django needed here).

Input: JSON lines ``{"id": ..., "text": ..., "lang": optional, ...}`` or CSV with a ``text``
column (``id``, ``lang``, ``platform``, ``author_followers`` optional). Output: one JSON line per
input record, in input order. Reads and writes in batches, so memory stays bounded.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

from .adapt import Adapter, Example
from .schema import SCORER_VERSION, SENTIMENT_LABELS, ScoreInput, TenantExtensions
from .scorer import Scorer, get_scorer

# A record is either a ScoreInput or a ready-made error dict (unparseable line).
Record = ScoreInput | dict


def _int_or_none(v: Any) -> int | None:
    if v is None or v == "":
        return None
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None


def _bool_or_none(v: Any) -> bool | None:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return v
    return str(v).strip().lower() in ("1", "true", "yes", "y")


def _record(obj: dict, default_id: Any) -> Record:
    rid = obj.get("id", default_id)
    if "text" not in obj:
        return {"id": rid, "error": {"code": "missing_text", "message": "no 'text' field"}}
    engagement = obj.get("engagement")
    if not isinstance(engagement, dict):
        engagement = {
            k: obj[k] for k in ("likes", "shares", "comments", "retweets", "replies") if k in obj
        } or None
    lang = obj.get("lang")
    return ScoreInput(
        text=obj["text"],
        lang=lang if isinstance(lang, str) else None,
        platform=obj.get("platform") if isinstance(obj.get("platform"), str) else None,
        author_followers=_int_or_none(obj.get("author_followers", obj.get("followers"))),
        author_verified=_bool_or_none(obj.get("author_verified", obj.get("verified"))),
        engagement=engagement,
        id=rid,
    )


def read_jsonl(stream: IO[bytes]) -> Iterator[Record]:
    for lineno, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        # surrogateescape keeps undecodable bytes visible so the item fails, not the run
        line = raw.decode("utf-8", "surrogateescape")
        try:
            obj = json.loads(line)
        except ValueError as exc:
            yield {
                "id": None,
                "line": lineno,
                "error": {"code": "invalid_json", "message": str(exc)[:200]},
            }
            continue
        if not isinstance(obj, dict):
            yield {
                "id": None,
                "line": lineno,
                "error": {"code": "invalid_record", "message": "line is not a JSON object"},
            }
            continue
        yield _record(obj, None)


def read_csv(stream: IO[bytes]) -> Iterator[Record]:
    csv.field_size_limit(10_000_000)
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
    reader = csv.DictReader(text)
    if not reader.fieldnames or "text" not in reader.fieldnames:
        raise ValueError("CSV input needs a 'text' column")
    for rowno, row in enumerate(reader, start=1):
        yield _record(row, str(rowno))


def _dump(obj: dict) -> str:
    try:
        return json.dumps(obj, ensure_ascii=False)
    except UnicodeEncodeError:  # pragma: no cover - ensure_ascii=False never encodes
        return json.dumps(obj)


def _safe_line(obj: dict) -> str:
    line = _dump(obj)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(obj, ensure_ascii=True)
        # lone surrogates are escaped as \udcxx by ensure_ascii; always valid UTF-8
    return line


def score_stream(
    in_stream: IO[bytes],
    out_stream: IO[str],
    fmt: str = "jsonl",
    extensions: TenantExtensions | None = None,
    batch_size: int = 512,
    progress: IO[str] | None = None,
    scorer: Scorer | None = None,
    adapter: Adapter | None = None,
) -> dict[str, int]:
    """Score every record of ``in_stream`` and write JSON lines to ``out_stream``; each scored
    line also says ``provocation_flag`` (``ScoreResult.is_provocative``). ``adapter``: a layer
    learnt by ``adapt.train`` (``--adapt-from``).

    Returns counts ``{"records": n, "errors": e}``.
    """
    scorer = scorer or get_scorer()
    records = read_csv(in_stream) if fmt == "csv" else read_jsonl(in_stream)
    n = errors = 0
    t0 = last = time.monotonic()
    batch: list[Record] = []

    def flush() -> None:
        nonlocal n, errors
        inputs = [r for r in batch if isinstance(r, ScoreInput)]
        scored = iter(scorer.score_batch(inputs, extensions, adapter)) if inputs else iter(())
        lines = []
        for r in batch:
            if isinstance(r, ScoreInput):
                result = next(scored)
                d = result.to_dict()
                if result.ok:
                    d["provocation_flag"] = result.is_provocative
            else:
                d = dict(r)
                d["scorer_version"] = SCORER_VERSION
            if "error" in d:
                errors += 1
            lines.append(_safe_line(d))
        out_stream.write("\n".join(lines) + "\n")
        n += len(batch)
        batch.clear()

    for rec in records:
        batch.append(rec)
        if len(batch) >= batch_size:
            flush()
            if progress is not None:
                now = time.monotonic()
                if now - last >= 1.0:
                    last = now
                    rate = n / max(1e-9, now - t0)
                    progress.write(f"\rscored {n:,} records ({rate:,.0f}/s)")
                    progress.flush()
    if batch:
        flush()
    out_stream.flush()
    if progress is not None:
        progress.write(f"\rscored {n:,} records, {errors:,} errors\n")
        progress.flush()
    return {"records": n, "errors": errors}


def read_examples(stream: IO[bytes]) -> list[Example]:
    """Labelled JSON lines ``{"id", "text", "sentiment": "negative|neutral|positive",
    "provocation": 0|1}`` (either label optional, one needed). A line that breaks these rules
    raises ``ValueError`` naming its line number and field."""
    out: list[Example] = []
    for lineno, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"line {lineno}: not JSON ({str(exc)[:80]})") from exc
        if not isinstance(obj, dict):
            raise ValueError(f"line {lineno}: not a JSON object")
        text = obj.get("text")
        if not isinstance(text, str):
            raise ValueError(f"line {lineno}: 'text' must be a string")
        sentiment = obj.get("sentiment")
        if sentiment is not None and sentiment not in SENTIMENT_LABELS:
            raise ValueError(
                f"line {lineno}: 'sentiment' must be one of {', '.join(SENTIMENT_LABELS)}"
            )
        provocation = obj.get("provocation")
        if provocation is not None:
            if provocation not in (0, 1) or isinstance(provocation, float):
                raise ValueError(f"line {lineno}: 'provocation' must be 0 or 1")
            provocation = int(provocation)
        if sentiment is None and provocation is None:
            raise ValueError(f"line {lineno}: give 'sentiment', 'provocation' or both")
        lang = obj.get("lang")
        out.append(
            Example(
                text=text,
                sentiment=sentiment,
                provocation=provocation,
                lang=lang if isinstance(lang, str) else None,
                id=obj.get("id"),
            )
        )
    return out


def detect_format(path: str, explicit: str | None) -> str:
    if explicit and explicit != "auto":
        return explicit
    return "csv" if path.lower().endswith(".csv") else "jsonl"


def main(argv: list[str] | None = None) -> int:
    """``python -m monitoring.scoring.batchio IN OUT`` (no Django, no tenant)."""
    args = argv if argv is not None else sys.argv[1:]
    src, dst = args[0], args[1]
    fmt = detect_format(src, None)
    with open(src, "rb") as fin, open(dst, "w", encoding="utf-8") as fout:
        score_stream(fin, fout, fmt, progress=sys.stderr if sys.stderr.isatty() else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
