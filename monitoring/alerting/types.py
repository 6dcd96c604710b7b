"""The words every detector speaks: sensitivities, severities, durations and the alert itself.

Pure Python (no Django), so the same detectors run offline (``manage.py backtest-rule``) and
live. Severity values are those of ``tenants.choices.Severity`` (``sev1`` worst … ``sev4``);
a test keeps both lists equal. Explanations are plain English strings; the live layer
translates what it shows.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

SENSITIVITIES = ("low", "medium", "high")
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|w)?\s*$", re.I)
_ISO_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$",
    re.I,
)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}
_UNIT_SECONDS["w"] = 7 * 86400


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """``"15m"``, ``"2h"``, ``"1d"``, ``"90s"``, ISO 8601 ``"PT15M"``, seconds, or a timedelta.

    Raises ``ValueError`` for anything else, and for a duration that is not positive.
    """
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"not a duration: {value!r}")
        result = timedelta(seconds=value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        iso = _ISO_DURATION.match(value.strip()) if match is None else None
        if match is not None:
            unit = (match.group(2) or "s").lower()
            result = timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[unit])
        elif iso is not None and any(iso.groupdict().values()):
            parts = {k: int(v or 0) for k, v in iso.groupdict().items()}
            result = timedelta(
                weeks=parts["w"],
                days=parts["d"],
                hours=parts["h"],
                minutes=parts["m"],
                seconds=parts["s"],
            )
        else:
            raise ValueError(f"not a duration: {value!r} (use e.g. 15m, 2h, 1d or PT15M)")
    else:
        raise ValueError(f"not a duration: {value!r}")
    if result <= timedelta(0):
        raise ValueError(f"a duration must be positive: {value!r}")
    return result


def check_sensitivity(value: str) -> str:
    if value not in SENSITIVITIES:
        raise ValueError(f"sensitivity must be one of {', '.join(SENSITIVITIES)}: {value!r}")
    return value


def check_severity(value: str | None) -> str | None:
    if value is not None and value not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}: {value!r}")
    return value


def severity_from_score(score: float) -> str:
    """A detector's default severity when its rule names none: the stronger the evidence, the
    worse. SEV1 is never given by a detector alone (a person declares it)."""
    if score >= 0.9:
        return "sev2"
    if score >= 0.7:
        return "sev3"
    return "sev4"


def as_utc(moment: datetime) -> datetime:
    """Aware datetimes in UTC; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    """``2026-01-31T08:15:00Z``: UTC, seconds precision unless there are microseconds."""
    text = as_utc(moment).isoformat()
    return text.replace("+00:00", "Z")


@dataclass(frozen=True)
class MentionRef:
    """One mention an alert points at."""

    platform: str
    external_id: str
    author: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"platform": self.platform, "external_id": self.external_id}
        if self.author:
            out["author"] = self.author
        return out


@dataclass
class Alert:
    """One alert, explaining itself.

    ``at`` is when the evidence was complete (the start of the bucket that tipped it for series
    rules, the tipping mention's time for mention rules); ``window_start``/``window_end`` the
    span the evidence covers. ``observed``, ``baseline`` and ``threshold`` are in the rule's
    own unit (mentions in the window, a share, a feature score), ``sigma`` how many standard
    deviations ``observed`` lies above ``baseline`` where that applies. ``dedupe_key`` is equal
    for the alerts of one episode: later evidence with the same key merges into the open alert.
    """

    rule: str
    at: datetime
    window_start: datetime
    window_end: datetime
    observed: float
    baseline: float
    threshold: float
    explanation: str
    severity: str
    dedupe_key: str
    sigma: float | None = None
    score: float | None = None
    cooldown_until: datetime | None = None
    subject: dict[str, Any] = field(default_factory=dict)
    mentions: list[MentionRef] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of an alert (the backtest's output lines add ``timestamp``)."""
        out: dict[str, Any] = {
            "rule": self.rule,
            "at": iso(self.at),
            "observed": _round(self.observed),
            "baseline": _round(self.baseline),
            "threshold": _round(self.threshold),
            "window": {"start": iso(self.window_start), "end": iso(self.window_end)},
            "explanation": self.explanation,
            "severity": self.severity,
            "dedupe_key": self.dedupe_key,
        }
        if self.sigma is not None:
            out["sigma"] = _round(self.sigma)
        if self.score is not None:
            out["score"] = _round(self.score)
        if self.cooldown_until is not None:
            out["cooldown_until"] = iso(self.cooldown_until)
        if self.subject:
            out.update(self.subject)
        if self.mentions:
            out["mentions"] = [m.to_dict() for m in self.mentions]
        if self.details:
            out["details"] = self.details
        return out


def _round(value: float) -> float:
    if not math.isfinite(value):
        return value
    return round(value, 4)


def score_from_ratio(value: float, threshold: float) -> float:
    """A score in [0, 1]: 0.5 exactly at the threshold, rising towards 1 as ``value`` exceeds
    it (0.75 at twice the threshold's distance from zero)."""
    if threshold <= 0:
        return 1.0 if value > 0 else 0.0
    ratio = max(0.0, value / threshold)
    return round(1.0 - 0.5**ratio, 4)
