"""The typed GraphQL context: what every resolver may read from ``info.context``.

``SigapGraphQLView.get_context`` (``config.graphql``) builds one per request. It carries the
request (with its authenticated ``user`` or ``auth_error``) and the request's caches of the
caller's access, so a query touching many tenant-owned objects resolves access once per
tenant. Resolving access also widens the request's database scope to the tenants it granted
(``tenants.graphql.permissions``), so PostgreSQL shows the query nothing else. Resolvers
annotate ``info: Info`` (this module's alias) so mypy checks what they read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry
from strawberry.django.context import StrawberryDjangoContext

from tenants import access
from tenants.roles import Cap


@dataclass
class SigapContext(StrawberryDjangoContext):
    tenant_access: dict[str, access.TenantAccess] = field(default_factory=dict)
    """The caller's access per tenant slug, as resolved by ``permissions.tenant_access``."""
    capabilities: dict[int, frozenset[Cap]] | None = None
    """The caller's capabilities per tenant id (``permissions.capabilities_by_tenant``)."""
    known_capabilities: dict[int, frozenset[Cap]] | None = None
    """The same, loaded with the first tenant resolved, not yet in the database scope."""


Info = strawberry.Info[SigapContext, None]
