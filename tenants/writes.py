"""Building blocks of the services that write tenant-owned rows (every app's ``services.py``).

Guarantees, for every row written through ``create_row``, ``update_row`` and ``delete_row``:

- the model's own rules run (field validators, ``choices``, ``clean()``) whatever the caller
  (REST, GraphQL, admin, a task), with Django ``ValidationError`` keyed by field;
- every uniqueness rule that includes the tenant (``UniqueConstraint`` fields with
  ``tenant``) is checked before the database is asked, so a duplicate is a field error
  (``code="unique"``) on the constraint's last field, not an ``IntegrityError``;
- every tenant-owned row a write references (``ensure_same_tenant``) belongs to the row's
  tenant: another tenant's id is answered like an id that does not exist;
- an update saves only the columns it changed (and ``auto_now`` stamps), so a worker that
  updates other columns of the row at the same time (health counters, engagement) is not
  overwritten with stale values.

A service stays one keyword-only function per action, in a transaction; these helpers keep
their bodies short.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from tenants.models import Tenant, TenantOwnedModel, TenantQuerySet

M = TypeVar("M", bound=models.Model)


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A service's rule broken by one field: ``ValidationError`` keyed by ``field`` (REST answers
    it as a 400 naming the field, GraphQL as BAD_USER_INPUT with ``extensions.field``)."""
    return ValidationError({field: ValidationError(message, code=code)})


def tenant_unique_sets(model: type[models.Model]) -> list[tuple[str, ...]]:
    """Field names unique together within a tenant, read from the model's constraints."""
    sets = []
    for constraint in model._meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint) or constraint.condition:
            continue
        names = tuple(constraint.fields)
        if "tenant" in names and len(names) > 1:
            sets.append(tuple(name for name in names if name != "tenant"))
    return sets


def scoped(model: type[M], tenant: Tenant | int) -> TenantQuerySet[M]:
    """``model``'s rows of ``tenant`` through its ``for_tenant`` row filter."""
    rows = model._default_manager.all()
    if not isinstance(rows, TenantQuerySet):
        raise TypeError(f"{model.__name__} has no TenantQuerySet manager (for_tenant).")
    return rows.for_tenant(tenant)


def check_tenant_unique(instance: models.Model) -> None:
    """``ValidationError`` on the last field of a tenant-wide uniqueness rule that ``instance``
    would break."""
    model = type(instance)
    tenant_id = instance.tenant_id  # type: ignore[attr-defined]
    for names in tenant_unique_sets(model):
        # Foreign keys by their column (``incident_id``): reading the related row instead
        # would load it by its id alone, unpinned.
        columns = [model._meta.get_field(name).attname for name in names]  # type: ignore[union-attr]
        values = {column: getattr(instance, column) for column in columns}
        # ``tenant_id`` again: an agency table's ``for_tenant`` shows its agency's rows too.
        clash = scoped(model, tenant_id).filter(tenant_id=tenant_id, **values)
        if instance.pk is not None:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            label = " and ".join(names)
            raise ValidationError(
                {
                    names[-1]: ValidationError(
                        _("This tenant already has one with this %(label)s.") % {"label": label},
                        code="unique",
                    )
                }
            )


def validate_row(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """The model's rules (fields, ``clean()``) and the tenant-wide uniqueness rules.

    The tenant itself is not re-read (the caller resolved it); other foreign keys are checked
    by their own services (``ensure_same_tenant``)."""
    # Foreign keys to tenant-owned rows are not re-read by Django's field validation (a query
    # by id alone, not pinned to the tenant): the services check them (``ensure_same_tenant``)
    # and so may the model's ``clean()``, within the tenant.
    owned = [
        field.name
        for field in instance._meta.concrete_fields
        if field.is_relation
        and field.name != "tenant"
        and isinstance(field.related_model, type)
        and issubclass(field.related_model, TenantOwnedModel)
    ]
    instance.full_clean(
        exclude=["tenant", *owned, *exclude], validate_unique=False, validate_constraints=False
    )
    check_tenant_unique(instance)


def ensure_same_tenant(
    tenant: Tenant | int, field: str, value: models.Model | None, message: str | None = None
) -> None:
    """A referenced tenant-owned row must belong to ``tenant``; otherwise a field error that
    reads like "no such object", so ids of other tenants tell nothing."""
    if value is None:
        return
    tenant_id = tenant.pk if isinstance(tenant, Tenant) else tenant
    if getattr(value, "tenant_id", None) != tenant_id:
        raise ValidationError(
            {field: ValidationError(message or _("No such object in this tenant."), "not_found")}
        )


def _auto_now_fields(model: type[models.Model]) -> list[str]:
    return [
        field.name
        for field in model._meta.concrete_fields
        if getattr(field, "auto_now", False) is True
    ]


@transaction.atomic
def create_row(model: type[M], *, tenant: Tenant, **values: Any) -> M:
    """A new row of ``tenant``, validated (see the module docstring) and saved."""
    instance = model(tenant=tenant, **values)
    validate_row(instance)
    instance.save()
    return instance


@transaction.atomic
def update_row(instance: M, *, writable: Iterable[str], **changes: Any) -> M:
    """Apply ``changes`` (only names in ``writable``), validate and save the changed columns."""
    allowed = set(writable)
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("This field cannot be changed."), "read_only")
                for name in unknown
            }
        )
    for name, value in changes.items():
        setattr(instance, name, value)
    validate_row(instance)
    if changes:
        instance.save(update_fields=[*changes, *_auto_now_fields(type(instance))])
    return instance


@transaction.atomic
def delete_row(instance: models.Model) -> None:
    instance.delete()
