"""GraphQL types of the tenants app, and the bases of every app's types.

``TenantOwnedType.get_queryset`` is the GraphQL side of tenant scoping: every list or nested
prefetch of a tenant-owned type goes through it (the optimizer runs with
``prefetch_custom_queryset=True``), keeping only rows of tenants where the caller holds the
type's ``read_capability`` (through the models' ``for_tenant`` row filter).

``public_type(FIELDS)`` builds a strawberry type from a ``tenants.fields.PublicFields``
declaration: the class spells only what differs (a resolver, a relation's type); every other
public field gets the annotation its model field implies (``annotation_for``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import strawberry
import strawberry_django
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import QuerySet
from django.utils import translation
from strawberry.permission import PermissionExtension
from strawberry.scalars import JSON

from tenants import access
from tenants import fields as public_fields
from tenants.fields import PublicFields
from tenants.graphql.context import Info
from tenants.graphql.permissions import HasTenantCapability, capabilities_by_tenant
from tenants.graphql.scalars import BigInt
from tenants.models import Tenant, TenantQuerySet, User
from tenants.roles import Cap

T = TypeVar("T", bound=type)

_BIG = (models.BigIntegerField, models.PositiveBigIntegerField)
_INT = (models.IntegerField, models.SmallIntegerField, models.PositiveIntegerField)
_TEXT = (models.CharField, models.TextField)


def _scalar_for(field: models.Field[Any, Any]) -> Any:
    if isinstance(field, ArrayField):
        return list[_scalar_for(field.base_field)]  # type: ignore[misc]
    if field.primary_key:
        return strawberry.ID
    if isinstance(field, models.BooleanField):
        return bool
    if isinstance(field, _BIG):
        return BigInt
    if isinstance(field, _INT):
        return int
    if isinstance(field, models.FloatField):
        return float
    if isinstance(field, models.DateTimeField):
        return datetime
    if isinstance(field, models.JSONField):
        return JSON
    if isinstance(field, _TEXT):
        return str
    raise TypeError(
        f"No GraphQL type for {field.model.__name__}.{field.name} ({type(field).__name__}); "
        "spell it in the type class."
    )


def annotation_for(model: type[models.Model], name: str) -> Any:
    """The GraphQL annotation of a model field: its scalar, optional when the column is
    nullable. Relations have none: the type class spells them."""
    field = model._meta.get_field(name)
    if field.is_relation:
        raise TypeError(f"{model.__name__}.{name} is a relation; spell its type in the class.")
    scalar = _scalar_for(field)  # type: ignore[arg-type]
    return scalar | None if field.null else scalar


def public_type(fields: PublicFields, *, django: bool = True, **options: Any) -> Callable[[T], T]:
    """A strawberry type (``strawberry_django.type`` of the declaration's model, or a plain
    ``strawberry.type`` when ``django=False``) named ``fields.type_name``, with every public
    field the class does not spell itself annotated from the model."""

    def wrap(cls: T) -> T:
        own: dict[str, Any] = dict(inspect.get_annotations(cls))
        annotations: dict[str, Any] = {}
        for name in fields.names:
            if name in own:
                annotations[name] = own.pop(name)
            elif name not in cls.__dict__:  # a resolver method keeps its own type
                annotations[name] = annotation_for(fields.model, name)
        annotations.update(own)
        cls.__annotations__ = annotations
        # Descriptions come from the models' help texts, read once here: the schema is the
        # API's contract, in English whatever language is active (tenants.i18n).
        with translation.override("en"):
            if django:
                return strawberry_django.type(fields.model, name=fields.type_name, **options)(cls)
            return strawberry.type(cls, name=fields.type_name, **options)

    return wrap


def tenant_ids_with(info: Info, cap: Cap) -> list[int]:
    """Ids of the tenants where the caller holds ``cap``."""
    by_tenant = capabilities_by_tenant(info) if info.context.request.user.is_authenticated else {}
    return [tenant_id for tenant_id, caps in by_tenant.items() if cap in caps]


class TenantOwnedType:
    """Base for GraphQL types of tenant-owned models."""

    read_capability: ClassVar[Cap] = Cap.VIEW_TENANT

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        if not isinstance(queryset, TenantQuerySet):
            raise TypeError(f"{cls.__name__}: its model has no TenantQuerySet (for_tenant).")
        return queryset.for_tenant(tenant_ids_with(info, cls.read_capability))


@public_type(public_fields.USER)
class UserType:
    @strawberry_django.field(only=["agency__slug"], select_related=["agency"])  # type: ignore[untyped-decorator]
    def agency(self, root: User) -> str | None:
        return root.agency.slug if root.agency is not None else None


@public_type(public_fields.USER_SUMMARY)
class UserSummaryType:
    pass


@public_type(public_fields.MEMBERSHIP)
class MembershipType(TenantOwnedType):
    read_capability = Cap.VIEW_MEMBERS

    user: UserSummaryType


@public_type(public_fields.TENANT)
class TenantType:
    @strawberry_django.field(only=["agency__slug"], select_related=["agency"])  # type: ignore[untyped-decorator]
    def agency(self, root: Tenant) -> str:
        return root.agency.slug

    members: list[MembershipType] = strawberry_django.field(
        field_name="memberships",
        only=["status"],  # the permission check reads it; keep it in the optimised query
        extensions=[PermissionExtension(permissions=[HasTenantCapability(Cap.VIEW_MEMBERS)])],
    )

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[Tenant], info: Info, **kwargs: Any
    ) -> QuerySet[Tenant]:
        return queryset.filter(pk__in=access.visible_tenants(info.context.request.user))
