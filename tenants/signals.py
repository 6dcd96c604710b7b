"""Signals other apps listen to, so ``tenants`` never imports them.

``tenant_created(sender=Tenant, tenant=...)`` is sent by ``services.create_tenant`` inside its
transaction, after the row is saved: a receiver that writes (monitoring's default alert rules)
commits or rolls back together with the tenant.
"""

from django.dispatch import Signal

tenant_created = Signal()
