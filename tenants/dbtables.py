"""Which database tables are tenant tables: the one place the database-layer rules read it from.

A *tenant table* holds one tenant's rows (its model has a ``tenant`` foreign key) and is not a
shared table. Tenant tables carry the tenant in every key (``(tenant_id, id)`` primary key,
composite foreign keys, UNIQUE constraints that include ``tenant_id``), pin ``tenant_id`` in every
statement, and sit behind a row-level-security policy.

*Shared tables* are small and read before the tenant is known (authentication) or across
tenants: agencies, tenants, users, memberships, invitations, personal tokens and tenant API
keys. On a distributed PostgreSQL (Citus) they become reference tables (copied to every node),
while every tenant table is distributed by ``tenant_id`` and co-located with the others; see
``docs/scaling.md``. The tables without a tenant key (Django's own, django-q2's queue and
schedules, the cache, the rate-limit counters, the audit log) stay local tables on the
coordinator.

The functions here work on the models of the app registry and on the historical models of a
migration alike (they compare model labels, not classes), so the schema editor
(``tenants.db``) and the catalog lint (``tenants.dbshape``) read the same definition.

*Scheduling tables* have a ``tenant`` column (so a tenant's deletion takes their rows along) but
hold no client data and are read and locked across tenants by a scheduler on purpose: the poll
schedule (``monitoring.PollSchedule``: source id, tenant, when due, lease), which lets the poll
scheduler claim due sources with ``FOR UPDATE SKIP LOCKED`` without locking any tenant's rows.
They are not tenant tables (no tenant in their keys, no row-level policy); on Citus they stay
local tables on the coordinator with the task queue.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

TENANT_MODEL = "tenants.Tenant"
TENANT_FIELD = "tenant"
TENANT_COLUMN = "tenant_id"

# Model labels of the shared tables, the future Citus reference tables (docs/scaling.md). Those
# with a ``tenant`` column (memberships, tenant API keys) must be listed for that column not to
# make them tenant tables; the others are listed so the list is complete.
SHARED_MODELS: frozenset[str] = frozenset(
    {
        "tenants.Agency",
        "tenants.Tenant",
        "tenants.User",
        "tenants.Membership",
        "tenants.Invitation",  # its link's page reads it before the tenant is known
        "tenants.PersonalToken",
        "tenants.TenantApiKey",
    }
)


# Model labels of the scheduling tables (see above): a tenant column, but no tenant table.
SCHEDULING_MODELS: frozenset[str] = frozenset({"monitoring.PollSchedule"})

# Model labels of the *agency tables*: rows owned by an agency (``tenant`` empty: shared by
# every tenant of the agency) or by one of its tenants (``tenant`` set). They carry ``agency_id``
# and a nullable ``tenant_id``, so they are no tenant tables (no tenant in their keys); their
# row-level-security policy (``tenants.rls.AGENCY_ROWS``) shows and lets write a row to the
# scope of its tenant, or, for an agency-wide row, to the scope of its agency or of any tenant
# of that agency. Small, read across the agency's tenants: Citus reference tables.
AGENCY_MODELS: frozenset[str] = frozenset(
    {
        "playbooks.Playbook",
        "playbooks.PlaybookStep",
        "playbooks.PlaybookVersion",
        "playbooks.StatementTemplate",
    }
)


def is_tenant_key(field: Any) -> bool:
    """True for the ``tenant`` foreign key (to ``tenants.Tenant``) that makes a model's rows one
    tenant's."""
    related = getattr(field, "related_model", None)
    return bool(
        getattr(field, "name", None) == TENANT_FIELD
        and getattr(field, "concrete", False)
        and getattr(field, "many_to_one", False)
        and related is not None
        and not isinstance(related, str)
        and related._meta.label == TENANT_MODEL
    )


def may_hold_tenant_rows(model: type[models.Model]) -> bool:
    """True for a concrete, managed model that is not a shared or scheduling table (whether or
    not it has its ``tenant`` key yet: the schema editor asks this while the key is being
    added)."""
    meta = model._meta
    return not (
        meta.abstract
        or meta.proxy
        or not meta.managed
        or meta.label in SHARED_MODELS
        or meta.label in SCHEDULING_MODELS
        or meta.label in AGENCY_MODELS
    )


def is_tenant_model(model: type[models.Model]) -> bool:
    """True for a concrete, managed model holding one tenant's rows."""
    if not may_hold_tenant_rows(model):
        return False
    try:
        field = model._meta.get_field(TENANT_FIELD)
    except FieldDoesNotExist:
        return False
    return is_tenant_key(field)


def tenant_models() -> list[type[models.Model]]:
    """Every tenant model of the installed apps, in a stable order."""
    return sorted(
        (m for m in apps.get_models(include_auto_created=True) if is_tenant_model(m)),
        key=lambda m: m._meta.label,
    )


def agency_tables() -> frozenset[str]:
    """The database table names of the installed agency tables (``AGENCY_MODELS``)."""
    return frozenset(
        m._meta.db_table
        for m in apps.get_models(include_auto_created=True)
        if m._meta.label in AGENCY_MODELS
    )


def tenant_tables() -> frozenset[str]:
    """The database table names of every tenant model."""
    return frozenset(m._meta.db_table for m in tenant_models())
