"""The start-up rules of Sigap's entry points.

``SECRET_KEY`` and ``SIGAP_ENCRYPTION_KEYS``: a process that serves, signs or may read a stored
secret refuses to start without them.

With ``DEBUG`` off and no ``SECRET_KEY``, the settings load with an empty key (Django then refuses
every use of it: sessions, CSRF, signed tokens raise ``ImproperlyConfigured``), so that commands
that need no secret work on a fresh clone. Every entry point that serves or may sign calls this
module before it starts:

* ``config/wsgi.py`` (any WSGI server, and ``runserver``, which loads the same application);
* ``manage.py``, for every management command unless its class declares
  ``requires_secret_key = False`` (``score`` and ``backtest-rule`` do). ``runserver``,
  ``serve``, ``qcluster`` and Django's own commands keep the rule, and a new command keeps it
  unless it opts out.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ImproperlyConfigured

# manage.py arguments that only print help or the version (Django answers them itself).
_HELP = frozenset({"help", "version"})
# Commands that serve requests or run tasks: they must not bypass row-level security.
SERVING_COMMANDS = frozenset({"runserver", "serve", "worker", "qcluster"})


def require_secret_key(purpose: str) -> None:
    """Raise ``ImproperlyConfigured`` when ``DEBUG`` is off and ``SECRET_KEY`` is empty."""
    from django.conf import settings

    if settings.DEBUG:
        return
    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django's own refusal of an empty key
        key = ""
    if not key:
        raise ImproperlyConfigured(
            f"SECRET_KEY must be set when DEBUG is off ({purpose}). "
            "Set the SECRET_KEY environment variable, or DEBUG=1 on a development machine."
        )
    if not settings.SIGAP_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            f"SIGAP_ENCRYPTION_KEYS must be set when DEBUG is off ({purpose}). "
            "Set it to one or more comma-separated Fernet keys (see the README)."
        )


def command_requires_secret_key(name: str) -> bool:
    """Whether ``manage.py NAME`` needs ``SECRET_KEY`` (True unless the command opts out)."""
    if name in _HELP or name.startswith("-"):
        return False
    import django
    from django.core.management import BaseCommand, get_commands, load_command_class

    django.setup()
    app = get_commands().get(name)
    if app is None:
        return False  # Django answers "Unknown command" itself
    command = app if isinstance(app, BaseCommand) else load_command_class(app, name)
    return bool(getattr(command, "requires_secret_key", True))


def require_secret_key_for_command(argv: Sequence[str]) -> None:
    """``manage.py``'s check, given its ``sys.argv``."""
    name = argv[1] if len(argv) > 1 else "help"
    if command_requires_secret_key(name):
        require_secret_key(f"manage.py {name} may serve or sign")


def require_row_security(purpose: str) -> None:
    """Raise ``ImproperlyConfigured`` when the database role would bypass row-level security,
    unless ``SIGAP_RLS=off``."""
    from django.conf import settings
    from django.db import connection

    if not settings.SIGAP_RLS:
        return
    from tenants.rls import unsafe_role

    try:
        problem = unsafe_role()
    finally:
        connection.close()
    if problem:
        raise ImproperlyConfigured(
            f"Row-level security would not apply ({purpose}): the database {problem}. Connect as "
            "the application role (DATABASE_URL; DATABASE_OWNER_URL for the owner), or set "
            "SIGAP_RLS=off to start anyway (unsafe: no database policy keeps tenants apart)."
        )


def require_row_security_for_command(argv: Sequence[str]) -> None:
    """``manage.py``'s check for the commands that serve requests or run tasks."""
    name = argv[1] if len(argv) > 1 else "help"
    if name in SERVING_COMMANDS:
        require_row_security(f"manage.py {name} serves requests or runs tasks")
