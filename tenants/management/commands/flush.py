"""``manage.py flush`` as the tables' owner (TRUNCATE is the owner's right, not the
application role's); the test suite's transactional tests end with it."""

from django.core.management.commands.flush import Command as DjangoFlush

from tenants.management.base import OwnerMixin


class Command(OwnerMixin, DjangoFlush):
    pass
