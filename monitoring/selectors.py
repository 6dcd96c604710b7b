"""Reads of the monitoring app, always given the tenant."""

from __future__ import annotations

from monitoring.models import LexiconEntry, LowCredibilityDomain, TrackedTerm
from monitoring.scoring import TenantExtensions
from tenants.models import Tenant


def scoring_extensions(tenant_id: int) -> TenantExtensions:
    """The tenant's terms, lexicon additions and low-credibility domains for the scorer."""
    return TenantExtensions(
        terms=TrackedTerm.objects.for_tenant(tenant_id).values_list("text", "kind"),
        lexicon=[
            (label, phrase) if weight is None else (label, phrase, weight)
            for label, phrase, weight in LexiconEntry.objects.for_tenant(tenant_id).values_list(
                "label", "phrase", "weight"
            )
        ],
        low_credibility_domains=LowCredibilityDomain.objects.for_tenant(tenant_id).values_list(
            "domain", flat=True
        ),
    )


def scoring_extensions_for_tenant(slug: str) -> TenantExtensions:
    """``manage.py score --tenant SLUG``: ``LookupError`` when there is no such tenant."""
    try:
        tenant = Tenant.objects.get(slug=slug)
    except Tenant.DoesNotExist:
        raise LookupError(f"no tenant with slug '{slug}'") from None
    return scoring_extensions(tenant.pk)
