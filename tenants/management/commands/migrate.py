"""``manage.py migrate`` as the tables' owner (``tenants.rls.owner_connection``): the schema
changes, then (``post_migrate``) the row-level-security policies and the application role's
grants (``tenants.rls.after_migrate``)."""

from django.core.management.commands.migrate import Command as DjangoMigrate

from tenants.management.base import OwnerMixin


class Command(OwnerMixin, DjangoMigrate):
    pass
