"""How long to wait before polling a source again.

``next_poll_delay(failures, base)`` is ``base`` while the source is healthy and
doubles with each consecutive failure, capped at ``max_seconds`` (6 hours by
default)::

    failures   0     1     2     3     4    ...   cap
    delay      base  2b    4b    8b    16b  ...   6 h

With ``jitter=j`` (0 <= j < 1) the delay is reduced by up to ``j`` of itself,
so sources that failed together do not all retry in the same second. Give a
``key`` (the source's id) to make that jitter deterministic: the same source
and failure count always give the same delay, which keeps schedules
reproducible and testable. Without a key the jitter is random.

A server's own ``retry_after`` (from a 429 or 503) is honoured: the delay is
never shorter than it, though still capped.
"""

from __future__ import annotations

import hashlib
import random

__all__ = ["DEFAULT_MAX_SECONDS", "next_poll_delay"]

DEFAULT_MAX_SECONDS = 6 * 60 * 60.0
_MAX_EXPONENT = 62


def _unit(key: str, failures: int) -> float:
    """A deterministic number in [0, 1) for ``key`` and ``failures``."""
    digest = hashlib.sha256(f"{key}:{failures}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def next_poll_delay(
    consecutive_failures: int,
    base_seconds: float,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    *,
    factor: float = 2.0,
    jitter: float = 0.0,
    key: str | None = None,
    retry_after: float | None = None,
) -> float:
    """Seconds until the next poll of a source.

    ``consecutive_failures`` is 0 after a success. The result is
    ``min(max_seconds, base_seconds * factor ** consecutive_failures)``, then
    reduced by up to ``jitter`` of itself, then raised to ``retry_after`` if
    that is longer, and never above ``max_seconds``.
    """
    if base_seconds <= 0:
        raise ValueError("base_seconds must be positive")
    if max_seconds <= 0:
        raise ValueError("max_seconds must be positive")
    if factor < 1:
        raise ValueError("factor must be at least 1")
    if not 0 <= jitter < 1:
        raise ValueError("jitter must be in [0, 1)")
    failures = max(0, consecutive_failures)
    delay = min(max_seconds, base_seconds * factor ** min(failures, _MAX_EXPONENT))
    if jitter and failures:
        unit = _unit(key, failures) if key is not None else random.random()
        delay *= 1 - jitter * unit
    if retry_after is not None and retry_after > delay:
        delay = retry_after
    return min(delay, max_seconds)
