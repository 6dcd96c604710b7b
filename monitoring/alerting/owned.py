"""Owned-account anomaly: a tenant's own account posting unlike itself (hijacked?).

Each registered account (platform, handle) keeps a profile of its own posts: languages, link
domains, posting hours (UTC), provocation, crypto/phishing/giveaway wording, and its posting
rate. Once it has ``min_history`` posts, each new post is compared with that profile feature
by feature; every feature that departs adds its weight:

==================  ======  ==================================================================
feature             weight  departs when
==================  ======  ==================================================================
language            1.0     the post's language is in under 10% of past posts
link domain         1.0     a link goes to a domain never linked before (1.5 for a link
                            shortener or a throw-away top-level domain)
posting hour        0.5     under 3% of past posts fall within an hour of this one's hour
provocation         1.0     the post is provocative and under 5% of past posts were
scam wording        1.5     crypto, phishing or giveaway wording that under 5% of past
                            posts had
burst               1.0     this many posts in the last hour is over 5x the account's
                            hourly rate and at least 4
==================  ======  ==================================================================

The post fires when the weights add up to the sensitivity's score (low 3, medium 2, high 1.5);
the alert names each departed feature and by how much. Then the account is quiet for the
cooldown. Every post (anomalous or not) joins the profile afterwards.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .mentions import MentionEvent
from .types import Alert, as_utc, check_sensitivity, check_severity, iso, score_from_ratio

SCORE_PRESETS = {"low": 3.0, "medium": 2.0, "high": 1.5}
HISTORY_PRESETS = {"low": 30, "medium": 20, "high": 10}
MAX_DOMAINS = 200  # link domains a stored profile keeps (the most used)
SHORTENERS = frozenset(
    [
        "bit.ly",
        "s.id",
        "tinyurl.com",
        "t.ly",
        "cutt.ly",
        "rb.gy",
        "is.gd",
        "ow.ly",
        "shorturl.at",
        "tiny.cc",
        "goo.gl",
    ]
)
THROWAWAY_TLDS = frozenset(
    [
        "xyz",
        "top",
        "click",
        "icu",
        "buzz",
        "rest",
        "cyou",
        "monster",
        "sbs",
        "cfd",
        "quest",
    ]
)
SCAM = re.compile(
    r"\b(?:airdrop|giveaway|give away|bitcoin|btc|eth(?:ereum)?|usdt|crypto|kripto|wallet|"
    r"dompet digital|seed phrase|private key|double your|claim (?:your|now)|klaim|"
    r"verify your account|verifikasi akun|login (?:here|di sini)|hadiah gratis|free (?:gift|money)|"
    r"transfer (?:dulu|sekarang)|kirim (?:saldo|pulsa)|investasi (?:pasti|cepat)|profit \d+%)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class OwnedConfig:
    accounts: frozenset[tuple[str, str]]  # (platform, lower-case handle without @)
    sensitivity: str = "medium"
    cooldown: timedelta = timedelta(hours=6)
    severity: str | None = None
    rule: str = "owned-account"

    def __post_init__(self) -> None:
        check_sensitivity(self.sensitivity)
        check_severity(self.severity)
        if self.cooldown <= timedelta(0):
            raise ValueError("cooldown must be a positive duration")


def account_key(platform: str, handle: str) -> tuple[str, str]:
    return platform.strip().lower(), handle.strip().lstrip("@").lower()


@dataclass
class Profile:
    posts: int = 0
    languages: Counter[str] = field(default_factory=Counter)
    domains: Counter[str] = field(default_factory=Counter)
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    provocative: int = 0
    scam: int = 0
    first_at: datetime | None = None
    recent: deque[datetime] = field(default_factory=deque)

    def add(self, event: MentionEvent, scam: bool) -> None:
        self.posts += 1
        self.languages[event.language or "unknown"] += 1
        for domain in set(event.domains):
            self.domains[domain] += 1
        self.hours[event.published_at.hour] += 1
        self.provocative += int(event.provocative)
        self.scam += int(scam)
        if self.first_at is None:
            self.first_at = event.published_at

    def to_dict(self) -> dict[str, Any]:
        """The profile as JSON (the live layer keeps it on the owned account's row)."""
        return {
            "posts": self.posts,
            "languages": dict(self.languages),
            "domains": dict(self.domains.most_common(MAX_DOMAINS)),
            "hours": list(self.hours),
            "provocative": self.provocative,
            "scam": self.scam,
            "first_at": iso(self.first_at) if self.first_at else None,
            "recent": [iso(at) for at in self.recent],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        if not data:
            return cls()
        first = data.get("first_at")
        return cls(
            posts=int(data["posts"]),
            languages=Counter(data.get("languages", {})),
            domains=Counter(data.get("domains", {})),
            hours=[int(h) for h in data.get("hours", [0] * 24)],
            provocative=int(data.get("provocative", 0)),
            scam=int(data.get("scam", 0)),
            first_at=as_utc(datetime.fromisoformat(first)) if first else None,
            recent=deque(as_utc(datetime.fromisoformat(at)) for at in data.get("recent", [])),
        )


@dataclass(frozen=True)
class Departure:
    feature: str
    weight: float
    observed: str
    usual: str

    def describe(self) -> str:
        return f"{self.feature}: {self.observed} (usual: {self.usual})"

    def to_dict(self) -> dict[str, object]:
        return {
            "feature": self.feature,
            "weight": self.weight,
            "observed": self.observed,
            "usual": self.usual,
        }


class OwnedAccounts:
    def __init__(self, config: OwnedConfig) -> None:
        self.config = config
        self.profiles: dict[tuple[str, str], Profile] = {}
        self.quiet_until: dict[tuple[str, str], datetime] = {}

    def observe(self, event: MentionEvent) -> Alert | None:
        key = account_key(event.platform, event.author)
        if key not in self.config.accounts:
            return None
        profile = self.profiles.setdefault(key, Profile())
        now = event.published_at
        while profile.recent and profile.recent[0] <= now - timedelta(hours=1):
            profile.recent.popleft()
        profile.recent.append(now)
        scam = bool(SCAM.search(event.text))
        alert = None
        if profile.posts >= HISTORY_PRESETS[self.config.sensitivity]:
            departures = self._departures(profile, event, scam)
            total = sum(d.weight for d in departures)
            needed = SCORE_PRESETS[self.config.sensitivity]
            quiet = key in self.quiet_until and now < self.quiet_until[key]
            if total >= needed and not quiet:
                alert = self._alert(key, event, profile, departures, total, needed)
        profile.add(event, scam)
        return alert

    def _departures(self, profile: Profile, event: MentionEvent, scam: bool) -> list[Departure]:
        n = profile.posts
        out: list[Departure] = []
        usual_language, usual_count = profile.languages.most_common(1)[0]
        language = event.language or "unknown"
        share = profile.languages[language] / n
        if share < 0.10:
            out.append(
                Departure(
                    "language",
                    1.0,
                    f"{language}, in {profile.languages[language]} of {n} past posts ({share:.0%})",
                    f"{usual_language} {usual_count / n:.0%}",
                )
            )
        usual_domains = ", ".join(d for d, _ in profile.domains.most_common(3)) or "no links"
        for domain in sorted(set(event.domains)):
            if profile.domains[domain]:
                continue
            risky = domain in SHORTENERS or domain.rsplit(".", 1)[-1] in THROWAWAY_TLDS
            out.append(
                Departure(
                    "link domain",
                    1.5 if risky else 1.0,
                    f"{domain}, never linked in {n} past posts"
                    + (" (a link shortener or throw-away domain)" if risky else ""),
                    usual_domains,
                )
            )
            break  # one new domain is evidence enough; more do not add
        hour = event.published_at.hour
        near = sum(profile.hours[(hour + d) % 24] for d in (-1, 0, 1))
        if near / n < 0.03:
            busiest = sorted(range(24), key=lambda h: -profile.hours[h])[:3]
            out.append(
                Departure(
                    "posting hour",
                    0.5,
                    f"{hour:02d}:00 UTC, {near} of {n} past posts within an hour of it",
                    "mostly " + ", ".join(f"{h:02d}:00" for h in sorted(busiest)),
                )
            )
        if event.provocative and profile.provocative / n < 0.05:
            out.append(
                Departure(
                    "provocation",
                    1.0,
                    f"score {event.provocation:.2f}",
                    f"{profile.provocative} of {n} past posts provocative",
                )
            )
        if scam and profile.scam / n < 0.05:
            out.append(
                Departure(
                    "scam wording",
                    1.5,
                    "crypto, phishing or giveaway wording",
                    f"{profile.scam} of {n} past posts",
                )
            )
        assert profile.first_at is not None
        span_hours = max((event.published_at - profile.first_at).total_seconds() / 3600, 1.0)
        hourly = n / span_hours
        recent = len(profile.recent)
        if recent >= 4 and recent > 5 * hourly:
            out.append(
                Departure(
                    "burst",
                    1.0,
                    f"{recent} posts in the last hour",
                    f"{hourly:.2f} an hour",
                )
            )
        return out

    def _alert(
        self,
        key: tuple[str, str],
        event: MentionEvent,
        profile: Profile,
        departures: list[Departure],
        total: float,
        needed: float,
    ) -> Alert:
        config = self.config
        now = event.published_at
        until = now + config.cooldown
        self.quiet_until[key] = until
        score = score_from_ratio(total, needed)
        handle = event.author or key[1]
        explanation = (
            f"The owned account {handle} on {key[0]} posted unlike its {profile.posts} past posts "
            f"at {iso(now)}: " + "; ".join(d.describe() for d in departures) + "."
        )
        return Alert(
            rule=config.rule,
            at=now,
            window_start=profile.first_at or now,
            window_end=now,
            observed=round(total, 2),
            baseline=0.0,
            threshold=needed,
            score=score,
            severity=config.severity or ("sev2" if total >= 2 * needed else "sev3"),
            cooldown_until=until,
            explanation=explanation,
            dedupe_key=f"{config.rule}:{key[0]}:{key[1]}:{iso(now)}",
            subject={"account": {"platform": key[0], "handle": handle}},
            mentions=[event.ref],
            details={"features": [d.to_dict() for d in departures]},
        )
