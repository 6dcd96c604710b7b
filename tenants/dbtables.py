"""Which database tables are tenant tables: the one place the database-layer rules read it from.

A *tenant table* holds one tenant's rows (its model has a ``tenant`` foreign key) and is not a
shared table. Tenant tables carry the tenant in every key (``(tenant_id, id)`` primary key,
composite foreign keys, UNIQUE constraints that include ``tenant_id``), pin ``tenant_id`` in every
statement, and sit behind a row-level-security policy.

*Shared tables* are small and read before the tenant is known (authentication) or across
tenants: agencies, tenants, users, memberships, personal tokens and tenant API keys. On a
distributed PostgreSQL (Citus) they become reference tables; see ``docs/scaling.md``.

*Scheduling tables* have a ``tenant`` column (so a tenant's deletion takes their rows along) but
hold no client data and are read and locked across tenants by a scheduler on purpose: the poll
schedule (``monitoring.PollSchedule``: source id, tenant, when due, lease), which lets the poll
scheduler claim due sources with ``FOR UPDATE SKIP LOCKED`` without locking any tenant's rows.
They are not tenant tables; on Citus they stay on the coordinator with the task queue.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

# Model labels of the shared (future reference) tables that have a ``tenant`` column.
SHARED_MODELS: frozenset[str] = frozenset(
    {
        "tenants.Agency",
        "tenants.Tenant",
        "tenants.User",
        "tenants.Membership",
        "tenants.PersonalToken",
        "tenants.TenantApiKey",
    }
)


# Model labels of the scheduling tables (see above): a tenant column, but no tenant table.
SCHEDULING_MODELS: frozenset[str] = frozenset({"monitoring.PollSchedule"})


def is_tenant_model(model: type[models.Model]) -> bool:
    """True for a concrete, managed model holding one tenant's rows."""
    from tenants.models import Tenant

    meta = model._meta
    if meta.abstract or meta.proxy or not meta.managed:
        return False
    if meta.label in SHARED_MODELS or meta.label in SCHEDULING_MODELS:
        return False
    try:
        field = meta.get_field("tenant")
    except FieldDoesNotExist:
        return False
    return bool(getattr(field, "related_model", None) is Tenant and field.concrete)


def tenant_models() -> list[type[models.Model]]:
    """Every tenant model of the installed apps, in a stable order."""
    return sorted(
        (m for m in apps.get_models(include_auto_created=True) if is_tenant_model(m)),
        key=lambda m: m._meta.label,
    )


def tenant_tables() -> frozenset[str]:
    """The database table names of every tenant model."""
    return frozenset(m._meta.db_table for m in tenant_models())
