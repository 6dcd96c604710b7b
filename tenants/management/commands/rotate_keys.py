"""``manage.py rotate_keys``: re-encrypt every encrypted field of every model with the first key
of ``SIGAP_ENCRYPTION_KEYS`` (see ``tenants.crypto``).

Rotation: put the new key first (``SIGAP_ENCRYPTION_KEYS=new,old``), restart, run this command,
then remove the old key. Every key of the list must still decrypt what is stored.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from tenants import dbscope
from tenants.crypto import DecryptionError, rotate_all
from tenants.management.base import ScopedCommand


class Command(ScopedCommand):
    help = "Re-encrypt every stored secret with the first key of SIGAP_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        with dbscope.all_tenants("manage.py rotate_keys"):
            try:
                counts = rotate_all()
            except DecryptionError as exc:
                raise CommandError(
                    f"{exc} Keep the old key in the list until rotation is done."
                ) from None
            for label, count in counts.items():
                self.stdout.write(f"{label}: {count} re-encrypted")
            self.stdout.write(self.style.SUCCESS("done"))
