"""Rate limits: per user or per machine key when authenticated, per IP address otherwise."""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import SimpleRateThrottle

from tenants.access import MachinePrincipal


class PrincipalRateThrottle(SimpleRateThrottle):
    scope = "principal"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        user = request.user
        if isinstance(user, MachinePrincipal):
            ident = f"key:{user.api_key.prefix}"
        elif user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(SimpleRateThrottle):
    scope = "anonymous"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.user is not None and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
