"""Building a rule's detector from its settings as a person gives them (names, durations as
text), for the offline replay and, later, the stored rules. Bad settings raise ``ValueError``
naming the setting."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Protocol

from .author import AuthorConfig, InfluentialAuthor
from .hoax import HoaxConfig, HoaxSpread
from .keywords import KeywordConfig, TriggerKeywords
from .mentions import MentionEvent
from .owned import OwnedAccounts, OwnedConfig, account_key
from .spike import SpikeConfig
from .surge import NegativeSurge, ProvocationBurst, RateConfig
from .types import Alert, parse_duration


class MentionRule(Protocol):
    def observe(self, event: MentionEvent) -> Alert | None: ...


def _duration(name: str, value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"--{name}: {exc}") from None


def _set(options: dict[str, Any], **values: Any) -> dict[str, Any]:
    options.update({k: v for k, v in values.items() if v is not None})
    return options


def spike_config(
    *,
    rule: str = "spike",
    sensitivity: str = "medium",
    window: str | None = None,
    cooldown: str | None = None,
    severity: str | None = None,
) -> SpikeConfig:
    options = _set(
        {"rule": rule, "sensitivity": sensitivity, "severity": severity},
        window=_duration("window", window),
        cooldown=_duration("cooldown", cooldown),
    )
    return SpikeConfig(**options)


def mention_rule(
    name: str,
    *,
    sensitivity: str = "medium",
    window: str | None = None,
    cooldown: str | None = None,
    severity: str | None = None,
    owned: Iterable[tuple[str, str]] = (),
    keywords: Iterable[str] = (),
) -> MentionRule:
    """The detector of the mention rule ``name`` with these settings."""
    win = _duration("window", window)
    cool = _duration("cooldown", cooldown)
    base = {"sensitivity": sensitivity, "severity": severity}
    if name == "hoax-spread":
        return HoaxSpread(HoaxConfig(**_set(base, window=win)))
    if name == "owned-account":
        accounts = frozenset(account_key(p, h) for p, h in owned)
        if not accounts:
            raise ValueError("--owned: owned-account needs at least one account")
        return OwnedAccounts(OwnedConfig(accounts=accounts, **_set(base, cooldown=cool)))
    if name == "influential-author":
        return InfluentialAuthor(AuthorConfig(**_set(base, cooldown=cool)))
    if name == "provocation-burst":
        return ProvocationBurst(RateConfig(rule=name, **_set(base, window=win, cooldown=cool)))
    if name == "negative-surge":
        return NegativeSurge(RateConfig(rule=name, **_set(base, window=win, cooldown=cool)))
    if name == "trigger-keywords":
        words = tuple(k.strip() for k in keywords if k.strip())
        if not words:
            raise ValueError("--keywords: trigger-keywords needs at least one keyword")
        return TriggerKeywords(
            KeywordConfig(keywords=words, **_set(base, window=win, cooldown=cool))
        )
    raise ValueError(f"--rule: unknown mention rule {name!r}")
