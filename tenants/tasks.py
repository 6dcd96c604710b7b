"""django-q2 entry points of the platform layer.

Dotted paths here are stored in schedules: do not rename them.
"""

from __future__ import annotations

from tenants import ratelimit


def prune_rate_counters() -> int:
    return ratelimit.prune()
