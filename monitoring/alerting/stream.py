"""Replaying a mention stream offline (``manage.py backtest-rule --mentions``).

Each line is one ingest item, checked as the ingest API checks it (``monitoring.ingest``); a
bad line stops the replay with a :class:`StreamError` naming the line and the field. Items are
scored by the scoring engine (language, sentiment, provocation, triggers, link domains), then
fed to the rule in ``published_at`` order (ties in file order) as if they arrived live. In a
replay the backfill rule (no alert for mentions published more than two hours before they
arrive) does not apply: every item counts as arriving when it was published.

An output line is the alert (``Alert.to_dict``) with ``timestamp``: the ``published_at`` text of
the item that tipped the rule, exactly as the input has it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .mentions import MentionEvent
from .rules import mention_rule
from .types import Alert, as_utc

SCORE_BATCH = 256


# ``--clusters`` writes every hoax cluster with at least this many distinct authors, whatever
# the sensitivity (the definition; at low the rule itself alerts from 5).
CLUSTER_AUTHORS = 3


class StreamError(ValueError):
    """Bad input: the message names the file and line."""


@dataclass
class ReplayResult:
    alerts: list[dict[str, Any]] = field(default_factory=list)
    clusters: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Item:
    line: int
    order: int
    published_text: str
    canonical: dict[str, Any]


def read_items(path: Path) -> list[_Item]:
    from monitoring.ingest import validate_items

    items: list[_Item] = []
    try:
        handle = path.open(encoding="utf-8-sig")
    except OSError as exc:
        raise StreamError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise StreamError(f"{path} line {number}: not JSON: {exc.msg}") from None
                checked = validate_items([obj])
                if checked.rejected:
                    problem = checked.rejected[0]
                    where = f" ({problem['field']})" if problem["field"] else ""
                    raise StreamError(f"{path} line {number}{where}: {problem['message']}")
                canonical = dict(checked.items[0])
                items.append(_Item(number, len(items), str(obj["published_at"]), canonical))
        except UnicodeDecodeError as exc:
            raise StreamError(f"{path} is not UTF-8 text: {exc}") from None
    return items


def read_owned(path: Path) -> list[tuple[str, str]]:
    """``[{"platform": ..., "handle": ...}, ...]``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise StreamError(f"cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StreamError(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, list):
        raise StreamError(f"{path}: expected a JSON array of {{platform, handle}} objects")
    accounts = []
    for index, entry in enumerate(data):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("platform"), str)
            or not isinstance(entry.get("handle"), str)
            or not entry["handle"].strip()
        ):
            raise StreamError(
                f'{path} entry {index}: each account is {{"platform": ..., "handle": ...}}'
            )
        accounts.append((entry["platform"], entry["handle"]))
    return accounts


def read_keywords(spec: str | None) -> list[str]:
    """``a,b,c`` or ``@file`` (one keyword a line)."""
    if not spec:
        return []
    if spec.startswith("@"):
        try:
            return Path(spec[1:]).read_text(encoding="utf-8-sig").splitlines()
        except OSError as exc:
            raise StreamError(f"cannot read {spec[1:]}: {exc.strerror}") from None
    return spec.split(",")


def to_events(items: list[_Item]) -> list[tuple[_Item, MentionEvent]]:
    """Score the items and build the rules' events, in published order."""
    from datetime import datetime

    from monitoring.scoring import ScoreInput, get_scorer

    scorer = get_scorer()
    out: list[tuple[_Item, MentionEvent]] = []
    for start in range(0, len(items), SCORE_BATCH):
        batch = items[start : start + SCORE_BATCH]
        inputs = []
        for item in batch:
            c = item.canonical
            inputs.append(
                ScoreInput(
                    text=c["text"],
                    lang=c["lang"] or None,
                    platform=c["platform"],
                    author_followers=c["author"]["followers"],
                    author_verified=c["author"]["verified"],
                    engagement=c["engagement"],
                )
            )
        for item, result in zip(batch, scorer.score_batch(inputs), strict=True):
            c = item.canonical
            probabilities = result.probabilities or {}
            domains = tuple(sorted({e.text.lower() for e in result.entities if e.type == "domain"}))
            engagement = sum(int(v) for v in c["engagement"].values())
            event = MentionEvent(
                platform=c["platform"],
                external_id=c["external_id"],
                published_at=as_utc(datetime.fromisoformat(c["published_at"])),
                text=c["text"],
                author=c["author"]["handle"],
                followers=c["author"]["followers"],
                verified=c["author"]["verified"],
                engagement=engagement,
                language=result.language or "",
                sentiment=result.sentiment or "neutral",
                negative=float(probabilities.get("negative", 0.0)),
                provocation=float(result.provocation or 0.0),
                triggers=tuple(sorted(result.triggers)),
                domains=domains,
            )
            out.append((item, event))
    out.sort(key=lambda pair: (pair[1].published_at, pair[0].order))
    return out


def alert_line(item: _Item, alert: Alert) -> dict[str, Any]:
    out: dict[str, Any] = {"timestamp": item.published_text}
    data = alert.to_dict()
    data.pop("at", None)
    out.update(data)
    return out


def replay_mentions(
    *,
    mentions_path: Path,
    rule: str,
    sensitivity: str = "medium",
    window: str | None = None,
    cooldown: str | None = None,
    severity: str | None = None,
    owned_path: Path | None = None,
    keywords: str | None = None,
    progress: Callable[[Iterable[Any], int, str], Iterable[Any]] | None = None,
) -> ReplayResult:
    owned = read_owned(owned_path) if owned_path else []
    if rule == "owned-account" and owned_path is None:
        raise StreamError("--rule owned-account needs --owned accounts.json")
    try:
        detector = mention_rule(
            rule,
            sensitivity=sensitivity,
            window=window,
            cooldown=cooldown,
            severity=severity,
            owned=owned,
            keywords=read_keywords(keywords),
        )
    except ValueError as exc:
        raise StreamError(str(exc)) from None
    items = read_items(mentions_path)
    events = to_events(items)
    result = ReplayResult()
    iterable: Iterable[tuple[_Item, MentionEvent]] = events
    if progress is not None:
        iterable = progress(events, len(events), "mention")
    for item, event in iterable:
        alert = detector.observe(event)
        if alert is not None:
            result.alerts.append(alert_line(item, alert))
    from .hoax import HoaxSpread

    if isinstance(detector, HoaxSpread):
        result.clusters = [
            {
                "cluster_id": c.cluster_id,
                "external_ids": [m.external_id for m in c.members],
                "mentions": [m.ref.to_dict() for m in c.members],
            }
            for c in detector.reported_clusters(CLUSTER_AUTHORS)
        ]
    return result
