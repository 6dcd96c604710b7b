"""The row filter of the playbooks app's *agency tables* (``tenants.dbtables.AGENCY_MODELS``):
rows with ``agency`` and a nullable ``tenant``. ``for_tenant(tenant)`` answers the tenant's own
rows and its agency's (those without a tenant), the rows the database's policy
(``tenants.rls.AGENCY_ROWS``) shows a tenant's scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from tenants.models import Tenant, TenantQuerySet

_RowT = TypeVar("_RowT", bound=models.Model)

TenantArg = Tenant | int | Iterable[Tenant | int] | QuerySet[Tenant]


def visible_to(tenant: TenantArg) -> Q:
    """The rows of ``tenant`` (a row, an id, or several) and of its agency."""
    if isinstance(tenant, Tenant):
        return Q(tenant_id=tenant.pk) | Q(tenant__isnull=True, agency_id=tenant.agency_id)
    if isinstance(tenant, int):
        agencies = Tenant.objects.filter(pk=tenant).values("agency_id")
        return Q(tenant_id=tenant) | Q(tenant__isnull=True, agency_id__in=agencies)
    if isinstance(tenant, models.QuerySet):
        ids: Any = tenant.values("pk")
    else:
        ids = [item.pk if isinstance(item, Tenant) else item for item in tenant]
    agencies = Tenant.objects.filter(pk__in=ids).values("agency_id")
    return Q(tenant_id__in=ids) | Q(tenant__isnull=True, agency_id__in=agencies)


class AgencyRowQuerySet(TenantQuerySet[_RowT]):
    """``for_tenant``: the rows a tenant sees, its own and its agency's."""

    def for_tenant(self, tenant: TenantArg) -> Self:
        return self.filter(visible_to(tenant))


class AgencyRowManager(models.Manager[_RowT]):
    def get_queryset(self) -> AgencyRowQuerySet[_RowT]:
        return AgencyRowQuerySet(self.model, using=self._db)

    def for_tenant(self, tenant: TenantArg) -> AgencyRowQuerySet[_RowT]:
        return self.get_queryset().for_tenant(tenant)


class AgencyOwned:
    """What a row of an agency table says of its owner, written once for every such model:
    ``owner`` ("tenant" or "agency") and the check that its tenant belongs to its agency.
    Mixed into a model with ``agency`` and a nullable ``tenant``; ``clean`` joins the model's."""

    tenant_id: int | None
    agency_id: int | None

    @property
    def owner(self) -> str:
        return "tenant" if self.tenant_id else "agency"

    def clean(self) -> None:
        super().clean()  # type: ignore[misc]
        if self.tenant_id is not None and self.agency_id is not None:
            tenant = Tenant.objects.filter(pk=self.tenant_id).only("agency_id").first()
            if tenant is None or tenant.agency_id != self.agency_id:
                raise ValidationError({"tenant": _("The tenant must belong to the agency.")})
