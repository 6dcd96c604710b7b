"""Which language and time zone a person is shown: one rule for web requests, the admin,
e-mails and tasks (docs/i18n.md).

Language: the user's own choice (``User.language``); else the default of the tenant the
request or message is about (``Tenant.default_language``); else Indonesian
(``settings.LANGUAGE_CODE``). The admin, whose pages are often about no one tenant, also uses
the default shared by every tenant the staff user administers, when they all agree.

Time zone (the admin and e-mails only): the tenant's (``Tenant.time_zone``), else the zone
shared by the staff user's tenants in the admin, else ``SIGAP_DEFAULT_TIME_ZONE`` (WIB). Every
date and time shown is followed by the zone's abbreviation (``config.formats``). The REST and
GraphQL APIs answer times in UTC, as ISO 8601 with an offset, whoever asks.

The code that authorises a request activates its language, as it sets the database scope:
``tenants.api.base`` for REST (the user once authenticated, then the URL's tenant),
``tenants.graphql.permissions`` for GraphQL, ``config.middleware.AdminScopeMiddleware`` and
the admin screens for the admin, the invitation page for its invitation. Every request starts
in Indonesian (``config.middleware.LanguageMiddleware``), and the machine-readable error codes
never change with the language: only the human text does.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from typing import Any

from django.conf import settings
from django.utils import formats, timezone, translation

LANGUAGE_CODES = ("id", "en")


def _choice(value: Any) -> str:
    return value if isinstance(value, str) and value in LANGUAGE_CODES else ""


def language_for(*, user: Any = None, tenant: Any = None) -> str:
    """The language for ``user`` (any principal; only a ``User`` has a choice) in the context of
    ``tenant`` (a ``Tenant`` or None)."""
    return (
        _choice(getattr(user, "language", ""))
        or _choice(getattr(tenant, "default_language", ""))
        or str(settings.LANGUAGE_CODE)
    )


def zone_for(*, tenant: Any = None) -> tzinfo:
    """The tenant's time zone, or the default one (WIB)."""
    return zone_for_name(getattr(tenant, "time_zone", "") or settings.SIGAP_DEFAULT_TIME_ZONE)


def activate(*, user: Any = None, tenant: Any = None) -> str:
    """Activate the language for the rest of the current request (or task); returns it."""
    language = language_for(user=user, tenant=tenant)
    translation.activate(language)
    return language


@contextmanager
def override(*, user: Any = None, tenant: Any = None, zone: bool = True) -> Iterator[str]:
    """Language (and, unless ``zone=False``, time zone) for one e-mail, notice or task: the
    recipient's choice, else the tenant's."""
    language = language_for(user=user, tenant=tenant)
    with translation.override(language):
        if not zone:
            yield language
            return
        with timezone.override(zone_for(tenant=tenant)):
            yield language


def zone_abbreviation(value: datetime, zone: tzinfo | None = None) -> str:
    """The abbreviation of ``zone`` (default: the active one) at ``value``: WIB for
    Asia/Jakarta, WITA for Asia/Makassar, WIT for Asia/Jayapura."""
    zone = zone or timezone.get_current_timezone()
    return value.astimezone(zone).tzname() or ""


def local_time(value: datetime | None, *, tenant: Any = None, zone: tzinfo | None = None) -> str:
    """A time as people read it: in the tenant's zone (or ``zone``), in the active language's
    format, with the zone's abbreviation ("1 Des. 2026, 14.05 WIB")."""
    if value is None:
        return ""
    local = value.astimezone(zone or zone_for(tenant=tenant))
    return formats.date_format(local, "DATETIME_FORMAT")


def admin_defaults(user: Any) -> tuple[str, str]:
    """The default language and time zone shared by every tenant a staff user administers
    (``""`` for either where they differ or there is none); one query."""
    from django.contrib.postgres.aggregates import ArrayAgg

    from tenants.admin_mixins import admin_tenants

    found = admin_tenants(user).aggregate(
        languages=ArrayAgg("default_language", distinct=True, default=[]),
        zones=ArrayAgg("time_zone", distinct=True, default=[]),
    )
    languages, zones = found["languages"], found["zones"]
    return (
        languages[0] if len(languages) == 1 else "",
        zones[0] if len(zones) == 1 else "",
    )


def activate_admin(request: Any, tenant: Any = None) -> None:
    """Language and time zone of an admin page: about ``tenant`` when the page is about one
    (a change page of its row, a list filtered to it), else the staff user's tenants'."""
    user = getattr(request, "user", None)
    language = _choice(getattr(user, "language", ""))
    if tenant is not None:
        translation.activate(language or language_for(tenant=tenant))
        timezone.activate(zone_for(tenant=tenant))
        return
    shared_language, shared_zone = "", ""
    if user is not None and user.is_authenticated and user.is_staff and user.is_active:
        shared_language, shared_zone = admin_defaults(user)
    translation.activate(language or _choice(shared_language) or str(settings.LANGUAGE_CODE))
    timezone.activate(zone_for(tenant=None) if not shared_zone else zone_for_name(shared_zone))


def zone_for_name(name: str) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.SIGAP_DEFAULT_TIME_ZONE)
