"""What a signed webhook delivery must pass besides its signature: rate limits and replay checks.

Guarantees, together with ``WebhookView``:

- Every refusal before the signature is proven answers alike: an unknown tenant slug, an unknown
  source id, a source of another tenant and a bad signature all get the same 401 body (the view
  checks a missing source against ``UNKNOWN_SOURCE_SECRET``, so even the timestamp and delivery
  header checks run the same way). The endpoint tells nobody which tenants or sources exist.
- Rate limits are keyed on the source and on the signature's validity. Deliveries with a valid,
  never-used signature count in the source's own bucket (rate ``webhook``); everything else
  (bad, stale or replayed signatures, unknown sources) counts per URL and client IP (rate
  ``webhook_invalid``). Junk from one address, or replays of a captured delivery, cannot use up
  the real sender's budget.
- A signature already used for the source with another delivery id is refused with 409
  ``replayed_signature`` while its timestamp is still accepted; the same delivery id again is a
  retry (200, nothing stored). ``WebhookSignature``'s UNIQUE (tenant, source, signature) holds
  even for two replays arriving in parallel (``services.claim_webhook_signature``).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

from monitoring import services
from monitoring.models import Source, WebhookSignature
from tenants.api import errors
from tenants.network import client_ip
from tenants.throttling import AtomicRateThrottle

# A missing source is checked against this secret (and refused whatever matches), so that an
# unknown source costs the same work and gets the same answer as a bad signature.
UNKNOWN_SOURCE_SECRET = secrets.token_urlsafe(32)
SIGNATURE_PREFIX = "sha256="


class ValidWebhookThrottle(AtomicRateThrottle):
    """Deliveries with a valid, fresh signature, per source."""

    scope = "webhook"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return None  # counted by ``admit`` with the source as key, never per request


class InvalidWebhookThrottle(AtomicRateThrottle):
    """Refused or replayed deliveries, per webhook URL and client IP."""

    scope = "webhook_invalid"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return None


class ReplayedSignature(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = errors.REPLAYED_SIGNATURE.code
    default_detail = _(
        "This signature was already used for another delivery; sign every delivery anew "
        "with the current timestamp."
    )


def count_refusal(request: Any, tenant_slug: str, source_id: int) -> None:
    """Counts a delivery that is refused or replayed; 429 once its address is over the limit.

    Keyed by the URL, not by what exists behind it, so the count behaves the same for unknown
    tenants and sources."""
    ip = client_ip(request) or "unknown"
    InvalidWebhookThrottle().check_key(f"{tenant_slug}:{source_id}:{ip}")


def signature_digest(request: Any) -> str:
    """The hex digest of a verified ``X-Sigap-Signature`` header."""
    return request.headers["X-Sigap-Signature"].removeprefix(SIGNATURE_PREFIX)


def signature_expiry(request: Any, tolerance_s: int) -> datetime:
    """Until when a verified delivery's signature could be accepted again (timestamp + window)."""
    signed_at = datetime.fromtimestamp(int(request.headers["X-Sigap-Timestamp"]), tz=UTC)
    return signed_at + timedelta(seconds=tolerance_s)


def admit(request: Any, source: Source, tenant_slug: str, delivery_id: str) -> bool:
    """After the signature is verified: refuses replays (409) and rate-limits (429).

    Answers True for a retry (this signature was already used for this delivery id), which the
    view answers as a repeat; False for a delivery with a fresh signature, counted in the
    source's bucket."""
    seen = (
        WebhookSignature.objects.for_tenant(source.tenant_id)
        .filter(source=source, signature=signature_digest(request))
        .first()
    )
    if seen is not None:
        count_refusal(request, tenant_slug, source.pk)
        if seen.delivery_id != delivery_id:
            raise ReplayedSignature()
        return True
    ValidWebhookThrottle().check_key(f"source:{source.pk}")
    return False


def claim(request: Any, source: Source, delivery_id: str, tolerance_s: int) -> bool:
    """Records the verified signature as used by ``delivery_id``; False when another delivery
    already used it (a replay that raced past ``admit``)."""
    return services.claim_webhook_signature(
        source=source,
        signature=signature_digest(request),
        delivery_id=delivery_id,
        expires_at=signature_expiry(request, tolerance_s),
    )
