"""Public fields, declared once per resource, and the public fields of the tenants app.

A ``PublicFields`` names a model's fields that the APIs show (``names``, in order) and which
of them only the server writes (``read_only``). The same declaration builds:

- the REST serializer's ``Meta.fields`` / ``read_only_fields`` (``.names``, ``.read_only``);
- the strawberry type (``tenants.graphql.types.public_type`` adds an annotation for every
  name the class does not spell itself, from the model field's type);
- the services' list of what an update may change (``.writable``).

``tests/test_field_parity.py`` compares every REST serializer with the GraphQL type of the same
model; the differences that are meant are listed there, and the list checks itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from tenants.models import Invitation, Membership, Tenant, User

REGISTRY: list[PublicFields] = []


@dataclass(frozen=True)
class PublicFields:
    model: type[models.Model]
    names: tuple[str, ...]
    read_only: tuple[str, ...] = ("id",)
    graphql_name: str | None = None
    """The GraphQL type's name (default: the model's name)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.read_only) - set(self.names))
        if unknown:
            raise ValueError(f"read_only names not among the public fields: {unknown}")
        REGISTRY.append(self)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def writable(self) -> tuple[str, ...]:
        return tuple(name for name in self.names if name not in self.read_only)

    @property
    def type_name(self) -> str:
        return self.graphql_name or self.model._meta.object_name or self.model.__name__


# --- the tenants app ---------------------------------------------------------------------------

USER_SUMMARY = PublicFields(
    User,
    ("id", "email", "full_name"),
    read_only=("id", "email", "full_name"),
    graphql_name="UserSummary",
)
USER = PublicFields(
    User,
    ("id", "email", "full_name", "language", "agency", "is_agency_admin", "date_joined"),
    read_only=("id", "email", "agency", "is_agency_admin", "date_joined"),
)
TENANT = PublicFields(
    Tenant,
    (
        "id",
        "slug",
        "name",
        "agency",
        "time_zone",
        "default_language",
        "status",
        "mention_retention_days",
        "raw_payload_retention_days",
        "created_at",
        "updated_at",
    ),
    read_only=("id", "agency", "created_at", "updated_at"),
)
MEMBERSHIP = PublicFields(
    Membership,
    ("id", "user", "role", "created_at", "updated_at"),
    read_only=("id", "user", "created_at", "updated_at"),
)
INVITATION = PublicFields(
    Invitation,
    ("id", "email", "role", "status", "created_at", "expires_at", "accepted_at"),
    read_only=("id", "status", "created_at", "expires_at", "accepted_at"),
)
