"""Fixed-window request counters, each hit counted by one atomic operation.

``hit(key=..., limit=..., period_s=...)`` adds one request to ``key``'s current window and says
whether it is still within ``limit`` and how long the window still runs. Counting and reading the
count are a single statement, so any number of parallel requests (threads, processes, servers)
let exactly ``limit`` through per window: on PostgreSQL an ``INSERT ... ON CONFLICT DO UPDATE
... RETURNING`` on the UNLOGGED ``tenants_ratecounter`` table; on Redis (when the default cache
is Redis, i.e. ``REDIS_URL`` is set) ``SET NX EX`` + ``INCR`` + ``PTTL`` in one MULTI/EXEC
transaction. A window starts with the first request of a key and lasts ``period_s``; the time
left, rounded up to whole seconds, is the ``Retry-After`` of a refusal. Ended windows are deleted
by ``prune``, which the ``tenants.prune_rate_counters`` schedule runs every ten minutes (a
counter whose window ended restarts at 1 whether or not its row is gone).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection

MAX_KEY_LENGTH = 255

UPSERT = """
INSERT INTO tenants_ratecounter AS counter (key, count, window_ends_at)
VALUES (%(key)s, 1, clock_timestamp() + make_interval(secs => %(period)s))
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN counter.window_ends_at > clock_timestamp()
                 THEN counter.count + 1 ELSE 1 END,
    window_ends_at = CASE WHEN counter.window_ends_at > clock_timestamp()
                          THEN counter.window_ends_at ELSE EXCLUDED.window_ends_at END
RETURNING count, EXTRACT(EPOCH FROM window_ends_at - clock_timestamp())::float8
"""
PRUNE = "DELETE FROM tenants_ratecounter WHERE window_ends_at < clock_timestamp()"


@dataclass(frozen=True)
class Hit:
    """The outcome of one counted request."""

    count: int  # requests in the current window, this one included
    limit: int
    window_left_s: float  # seconds until the window ends

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def retry_after_s(self) -> int:
        """``window_left_s`` in whole seconds, rounded up (``Retry-After``), at least 1."""
        return max(1, math.ceil(self.window_left_s))


def storage_key(key: str) -> str:
    """``key`` itself, or its digest when it is too long for the counter's primary key."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def hit(*, key: str, limit: int, period_s: int) -> Hit:
    """Count one request for ``key`` in its current window of ``period_s`` seconds."""
    key = storage_key(key)
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        count, left = _redis_hit(backend, key, period_s)
    else:
        count, left = _database_hit(key, period_s)
    return Hit(count=count, limit=limit, window_left_s=max(0.0, left))


def _database_hit(key: str, period_s: int) -> tuple[int, float]:
    with connection.cursor() as cursor:
        cursor.execute(UPSERT, {"key": key, "period": period_s})
        count, left = cursor.fetchone()
    return int(count), float(left)


def prune() -> int:
    """Deletes the PostgreSQL counters whose window ended (Redis expires its own)."""
    with connection.cursor() as cursor:
        cursor.execute(PRUNE)
        return int(cursor.rowcount)


def _redis_hit(backend: RedisCache, key: str, period_s: int) -> tuple[int, float]:
    full_key = backend.make_and_validate_key(f"ratelimit:{key}")
    client = backend._cache.get_client(full_key, write=True)
    with client.pipeline(transaction=True) as pipe:
        pipe.set(full_key, 0, ex=period_s, nx=True)
        pipe.incr(full_key)
        pipe.pttl(full_key)
        _, count, pttl = pipe.execute()
    return int(count), int(pttl) / 1000
