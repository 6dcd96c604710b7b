"""Signed webhook deliveries for tests, in the format the README documents (one helper, so a
change of the signing format is one edit)."""

from __future__ import annotations

import time
from typing import Any

from monitoring.api.ingest import expected_signature
from monitoring.models import Source


def webhook_url(slug: str, source_id: int) -> str:
    return f"/api/v1/tenants/{slug}/sources/{source_id}/webhook/"


def signed_headers(
    secret: str, body: bytes, *, delivery: str = "d-1", ts: int | str | None = None
) -> dict[str, str]:
    """``X-Sigap-*`` headers for ``body``, signed with ``secret`` at ``ts`` (default: now)."""
    stamp = str(ts if ts is not None else int(time.time()))
    return {
        "HTTP_X_SIGAP_TIMESTAMP": stamp,
        "HTTP_X_SIGAP_DELIVERY": delivery,
        "HTTP_X_SIGAP_SIGNATURE": expected_signature(secret, stamp, body),
    }


def post_hook(
    client: Any,
    source: Source,
    body: bytes,
    *,
    delivery: str = "d-1",
    ts: int | str | None = None,
    secret: str | None = None,
) -> Any:
    """POST ``body`` to ``source``'s webhook, signed with its secret (or ``secret``)."""
    return client.post(
        webhook_url(source.tenant.slug, source.pk),
        body,
        content_type="application/json",
        **signed_headers(secret or source.webhook_secret, body, delivery=delivery, ts=ts),
    )
