"""Rate limits: per user or per machine key when authenticated, per client IP otherwise.

Every limit (REST through DRF's ``throttle_classes``, GraphQL through ``graphql_refusal``,
signed webhooks through ``check_key``, ``/readyz`` through ``ProbeRateThrottle``) is an
``AtomicRateThrottle``: one atomic counter hit per request (``tenants.ratelimit``), so parallel
requests cannot overshoot the limit, and the client IP comes from ``tenants.network.client_ip``,
which trusts ``X-Forwarded-For`` only from ``SIGAP_TRUSTED_PROXIES``. Rates are
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` by scope (``THROTTLE_RATE_*`` in the environment);
REST and GraphQL share the ``principal`` and ``anonymous`` buckets, so a caller cannot double
its budget by switching API.
"""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from tenants import ratelimit
from tenants.access import MachinePrincipal
from tenants.network import client_ip


class AtomicRateThrottle(SimpleRateThrottle):
    """Base of every Sigap rate limit. Subclasses name a ``scope`` (its rate) and either build
    the key from the request (``get_cache_key``, for DRF's ``throttle_classes``) or are handed
    an identity by the caller (``check_key``)."""

    num_requests: int | None  # set from the scope's rate by SimpleRateThrottle.__init__
    duration: int | None
    retry_after_s: int | None = None

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
        return result.allowed

    def check_key(self, ident: str) -> None:
        """Counts one request for ``ident`` in this scope; raises 429 when over the limit."""
        if not self.allow_key(self.cache_format % {"scope": self.scope, "ident": ident}):
            raise exceptions.Throttled(wait=self.wait())

    def wait(self) -> float | None:
        return float(self.retry_after_s) if self.retry_after_s is not None else None


class PrincipalRateThrottle(AtomicRateThrottle):
    scope = "principal"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        user = getattr(request, "user", None)
        if isinstance(user, MachinePrincipal):
            ident = f"key:{user.api_key.prefix}"
        elif user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(AtomicRateThrottle):
    scope = "anonymous"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ProbeRateThrottle(AtomicRateThrottle):
    """``/readyz``: every caller per client IP (probes carry no credentials)."""

    scope = "probe"

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
