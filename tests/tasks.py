"""Tasks the test suite sends through a real django-q2 cluster."""


def always_fails(message: str) -> None:
    raise RuntimeError(message)


def slow_job(marker: str, max_seconds: float = 120.0) -> str:
    """Stands in for a report or a retraining run: says it started (in the shared cache), then
    runs until the test releases it (or ``max_seconds`` pass)."""
    import time

    from django.core.cache import cache

    cache.set(f"{marker}:started", time.time(), 600)
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline and cache.get(f"{marker}:release") is None:
        time.sleep(0.2)
    return marker
