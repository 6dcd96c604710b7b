"""``manage.py createcachetable`` as the tables' owner; the application role gets its rights
on the new table by the default privileges ``migrate`` set (``tenants.rls``)."""

from django.core.management.commands.createcachetable import Command as DjangoCreateCacheTable

from tenants.management.base import OwnerMixin


class Command(OwnerMixin, DjangoCreateCacheTable):
    pass
