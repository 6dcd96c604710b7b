#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

Commands need ``SECRET_KEY`` when ``DEBUG`` is off unless they declare
``requires_secret_key = False``; those that serve requests or run tasks refuse a database role
that bypasses row-level security unless ``SIGAP_RLS=off`` (see ``config/startup.py``).
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from config.startup import require_row_security_for_command, require_secret_key_for_command

    try:
        require_secret_key_for_command(sys.argv)
        require_row_security_for_command(sys.argv)
    except ImproperlyConfigured as exc:
        sys.exit(f"manage.py: {exc}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
