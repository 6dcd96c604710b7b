"""Serve Sigap: the production HTTP server and both task clusters, until Ctrl-C or SIGTERM.

Three child processes share this process's database (the embedded server stays up while any of
them holds it): gunicorn with ``config/gunicorn.py`` (gthread workers, a bounded database pool
per worker, static files through WhiteNoise), the fast django-q2 cluster (ingest, polling,
alerting) and the slow one (``Q_CLUSTER_NAME=slow``: reports, retraining, re-scoring,
backtests). ``make run`` and the production units run the same processes. Stopping this command
stops all three gracefully (SIGTERM: requests and tasks in flight finish first); if one child
exits on its own, the others are stopped too and the command fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants.queues import SLOW_CLUSTER, cluster_command_env

GUNICORN_CONFIG = settings.BASE_DIR / "config" / "gunicorn.py"


def _child_setup() -> None:
    """Children get signals from this command only (not twice from the terminal), and take
    SIGINT as Ctrl-C even when this command was started in the background."""
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def web_command(addr: str) -> list[str]:
    """The gunicorn command line ``serve`` runs (the same as ``make serve-prod``)."""
    return [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "--bind", addr]


def spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, preexec_fn=_child_setup)


class Command(BaseCommand):
    help = "Run the HTTP server and both task clusters together (Ctrl-C stops them)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default=os.environ.get("SIGAP_ADDR", "127.0.0.1:8000"))

    def handle(self, *args: Any, **options: Any) -> None:
        if isinstance(staticfiles_storage, ManifestFilesMixin):
            # Hashed static names need their manifest before the first admin page renders.
            call_command("collectstatic", "--noinput", verbosity=0)
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children = {
            "web": spawn(web_command(options["addr"]), dict(os.environ)),
            "worker": spawn([*manage, "qcluster"], cluster_command_env(None)),
            "slow-worker": spawn([*manage, "qcluster"], cluster_command_env(SLOW_CLUSTER)),
        }
        self.stdout.write(
            f"Sigap on http://{options['addr']}/ (admin /admin/, API /api/docs/, "
            "GraphQL /graphql/) with a fast and a slow task cluster; Ctrl-C stops it."
        )
        self.stdout.flush()
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping and all(child.poll() is None for child in children.values()):
            time.sleep(0.3)
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if not stopping:
            codes = {name: child.returncode for name, child in children.items()}
            raise SystemExit(f"stopped because a child exited: {codes}")
        self.stdout.write("Sigap stopped.")
