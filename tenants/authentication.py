"""DRF authentication: personal tokens (``Bearer``) and tenant machine keys (``Api-Key``)."""

from __future__ import annotations

import re
from typing import Any, cast

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from tenants import dbscope
from tenants.access import MachinePrincipal
from tenants.models import PersonalToken, TenantApiKey, User

# What ``PersonalToken``/``TenantApiKey`` issue: "<prefix>.<secret>", ASCII letters and digits.
# Anything else is refused before it reaches a query (a NUL byte there is a database error).
KEY_FORMAT = re.compile(r"[A-Za-z0-9]{1,100}\.[A-Za-z0-9]{1,200}")


def _check_format(raw: str, message: str) -> None:
    if not KEY_FORMAT.fullmatch(raw):
        raise exceptions.AuthenticationFailed(message)


def _credentials(request: Request, keyword: str) -> str | None:
    header = authentication.get_authorization_header(request).decode("latin-1")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != keyword.lower():
        return None
    value = value.strip()
    if not value or " " in value:
        raise exceptions.AuthenticationFailed(
            f"Malformed Authorization header: expected '{keyword} <secret>'."
        )
    return value


def user_for_token(raw: str) -> User:
    """The active user owning a valid, unexpired, unrevoked personal token."""
    _check_format(raw, "Invalid or revoked token.")
    try:
        token = cast(PersonalToken, PersonalToken.objects.get_from_key(raw))
    except PersonalToken.DoesNotExist:
        raise exceptions.AuthenticationFailed("Invalid or revoked token.") from None
    if token.has_expired:
        raise exceptions.AuthenticationFailed("This token has expired.")
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed("This account is disabled.")
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        PersonalToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"
    credential_in_header = True  # tenants.throttling.header_credential

    def authenticate(self, request: Request) -> tuple[User, str] | None:
        raw = _credentials(request, self.keyword)
        if raw is None:
            return None
        return user_for_token(raw), raw

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class TenantApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"
    credential_in_header = True  # tenants.throttling.header_credential

    def authenticate(self, request: Request) -> tuple[MachinePrincipal, TenantApiKey] | None:
        raw = _credentials(request, self.keyword)
        if raw is None:
            return None
        _check_format(raw, "Invalid or revoked API key.")
        try:
            key = cast(TenantApiKey, TenantApiKey.objects.get_from_key(raw))
        except TenantApiKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.") from None
        if key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            with dbscope.tenant_scope([key.tenant_id]):  # keys are written within their tenant
                TenantApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return MachinePrincipal(key), key


def lockout_response(request: Any, credentials: Any = None, *args: Any, **kwargs: Any) -> Any:
    """What a locked-out sign-in gets: 429 in the API's error format (admin pages included)."""
    from django.http import JsonResponse

    from tenants.api.errors import LOCKED_OUT

    return JsonResponse(LOCKED_OUT.body(), status=LOCKED_OUT.status)


def axes_username(request: Any, credentials: Any = None) -> str | None:
    """The sign-in name django-axes counts failures for: the lower-cased email, from the
    credentials passed to ``authenticate`` or the admin login form."""
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username")
    return username.lower() if isinstance(username, str) else None
