"""Rate limits: per user or per machine key when authenticated, per client IP otherwise.

Every limit (REST through DRF's ``throttle_classes``, GraphQL through ``graphql_refusal``,
signed webhooks through ``check_key``) is an ``AtomicRateThrottle``: one atomic counter hit per
request (``tenants.ratelimit``), so parallel requests cannot overshoot the limit, and the client
IP comes from ``tenants.network.client_ip``, which trusts ``X-Forwarded-For`` only from
``SIGAP_TRUSTED_PROXIES``. Rates are
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` by scope (``THROTTLE_RATE_*`` in the environment);
REST and GraphQL share the ``principal`` and ``anonymous`` buckets, so a caller cannot double
its budget by switching API.

``/readyz`` (``ProbeRateThrottle``) is the exception: it counts in the process, its share of
the rate per web process, and never touches the database.

A fixed window refuses everything once its count is past the limit, until it ends, so a refusal
can be remembered in the process (``RefusalMemo``) and repeated without the database: the
principal limit remembers the ``Authorization`` header of a REST caller it refused
(``refused_credentials``). The WSGI layer in
front of Django (``config.edge``) answers a remembered credential's REST requests with the same
429 before any authentication, so an over-limit caller costs no query and almost no Python
until its window ends (an unremembered caller, or one signed in with a session, is counted as
always).
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
from typing import Any, cast

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from tenants import ratelimit
from tenants.access import MachinePrincipal
from tenants.network import client_ip

# Keys remembered per memo and process (the map is emptied when it grows past this).
MAX_REMEMBERED_REFUSALS = 10_000


class RefusalMemo:
    """Keys refused in this process, until their window ends."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        self._until.clear()

    def wait_s(self, key: str) -> float | None:
        """Seconds left of ``key``'s refused window, or None."""
        until = self._until.get(key)
        if until is None:
            return None
        left = until - time.monotonic()
        if left <= 0:
            self._until.pop(key, None)
            return None
        return left

    def remember(self, key: str, seconds: float) -> None:
        with self._lock:
            if len(self._until) >= MAX_REMEMBERED_REFUSALS:
                self._until.clear()
            self._until[key] = time.monotonic() + seconds


refused_credentials = RefusalMemo()


class LocalWindows:
    """Fixed-window counters kept in this process only (no database)."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        self._windows.clear()

    def hit(self, key: str, limit: int, period_s: float) -> tuple[bool, float]:
        """Counts one request for ``key``: (within ``limit``, seconds left of its window)."""
        now = time.monotonic()
        with self._lock:
            ends, count = self._windows.get(key, (0.0, 0))
            if ends <= now:
                if len(self._windows) >= MAX_REMEMBERED_REFUSALS:
                    self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
                ends, count = now + period_s, 0
            count += 1
            self._windows[key] = (ends, count)
        return count <= limit, ends - now


probe_windows = LocalWindows()


def web_processes() -> int:
    """The web server's worker processes (``WEB_CONCURRENCY``, which ``config/gunicorn.py``
    sets in each of them to gunicorn's own count; 1 elsewhere)."""
    value = os.environ.get("WEB_CONCURRENCY", "")
    return max(1, int(value)) if value.isdigit() else 1


def credential_key(authorization: str) -> str:
    """What ``refused_credentials`` keeps of an ``Authorization`` header: its digest."""
    return hashlib.sha256(authorization.encode("utf-8", "surrogatepass")).hexdigest()


def refused_credential_wait(authorization: str) -> float | None:
    """Seconds left of the refused window of the caller sending ``authorization``, if this
    process refused it; else None."""
    return refused_credentials.wait_s(credential_key(authorization)) if authorization else None


class AtomicRateThrottle(SimpleRateThrottle):
    """Base of every Sigap rate limit. Subclasses name a ``scope`` (its rate) and either build
    the key from the request (``get_cache_key``, for DRF's ``throttle_classes``) or are handed
    an identity by the caller (``check_key``)."""

    num_requests: int | None  # set from the scope's rate by SimpleRateThrottle.__init__
    duration: int | None
    retry_after_s: int | None = None
    window_left_s: float | None = None

    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        return self.allow_key(key)

    def allow_key(self, key: str) -> bool:
        """Counts one request for ``key``; False when it is over the limit."""
        if self.num_requests is None or self.duration is None:
            return True
        result = ratelimit.hit(key=key, limit=self.num_requests, period_s=self.duration)
        self.retry_after_s = result.retry_after_s
        self.window_left_s = result.window_left_s
        return result.allowed

    def check_key(self, ident: str) -> None:
        """Counts one request for ``ident`` in this scope; raises 429 when over the limit."""
        if not self.allow_key(self.cache_format % {"scope": self.scope, "ident": ident}):
            raise exceptions.Throttled(wait=self.wait())

    def wait(self) -> float | None:
        return float(self.retry_after_s) if self.retry_after_s is not None else None


class PrincipalRateThrottle(AtomicRateThrottle):
    """Per user or machine key. A REST caller refused here is remembered by its
    ``Authorization`` header until the window ends (``refused_credentials``): its next requests
    are refused without counting (``config.edge`` refuses them before Django)."""

    scope = "principal"

    def allow_request(self, request: Any, view: Any) -> bool:
        credential = header_credential(request)
        if credential is not None:
            left = refused_credential_wait(credential)
            if left is not None:
                self.window_left_s = left
                self.retry_after_s = max(1, math.ceil(left))
                return False
        allowed = super().allow_request(request, view)
        if not allowed and credential is not None and self.window_left_s:
            refused_credentials.remember(credential_key(credential), self.window_left_s)
        return allowed

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        user = getattr(request, "user", None)
        if isinstance(user, MachinePrincipal):
            ident = f"key:{user.api_key.prefix}"
        elif user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


def header_credential(request: Any) -> str | None:
    """The ``Authorization`` header of a DRF request that it authenticated (a personal token or
    a machine key: ``credential_in_header`` on the authentication class); None otherwise."""
    authenticator = getattr(request, "successful_authenticator", None)
    if not getattr(authenticator, "credential_in_header", False):
        return None
    return request.META.get("HTTP_AUTHORIZATION") or None


class AnonymousRateThrottle(AtomicRateThrottle):
    scope = "anonymous"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ProbeRateThrottle(AtomicRateThrottle):
    """``/readyz``: every caller per client IP (probes carry no credentials), counted in the
    process (``probe_windows``), not in the database: a flood of probes from one address
    would otherwise queue every web thread on its one counter row. Each of the
    ``web_processes()`` processes lets its share of the rate through, so the server as a whole
    lets through at most the rate (plus one a process), a little less when the kernel hands one
    caller's connections to the processes unevenly."""

    scope = "probe"

    def allow_key(self, key: str) -> bool:
        if self.num_requests is None or self.duration is None:
            return True
        share = max(1, math.ceil(self.num_requests / web_processes()))
        allowed, left = probe_windows.hit(key, share, self.duration)
        self.window_left_s = left
        self.retry_after_s = max(1, math.ceil(left))
        return allowed

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def graphql_refusal(request: Any) -> int | None:
    """Applies REST's default throttles to a GraphQL request (a Django request whose ``user`` is
    resolved). Answers the seconds to wait when a limit is reached, else None."""
    for throttle_class in cast(list[type[BaseThrottle]], api_settings.DEFAULT_THROTTLE_CLASSES):
        throttle = throttle_class()
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]  # no DRF view
            wait = throttle.wait()
            return max(1, round(wait)) if wait is not None else 1
    return None


def throttled_message(wait_s: int) -> str:
    return _("Too many requests; try again in %(seconds)d s.") % {"seconds": wait_s}
