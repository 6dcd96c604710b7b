"""Serve Sigap: the production HTTP server and both task clusters, until Ctrl-C or SIGTERM.

Three child processes share this process's database (the embedded server stays up while any of
them holds it): gunicorn with ``config/gunicorn.py`` (gthread workers, a bounded database pool
per worker, static files through WhiteNoise), the fast django-q2 cluster (ingest, polling,
alerting) and the slow one (``Q_CLUSTER_NAME=slow``: reports, retraining, re-scoring,
backtests). ``make run`` and the production units run the same processes. Stopping this command
stops all three gracefully (SIGTERM: requests and tasks in flight finish first); if one child
exits on its own, the others are stopped too and the command fails. Every
``Q_WATCHDOG_INTERVAL`` seconds the progress watchdog (``tenants.watchdog``, as in
``manage.py worker``) checks both clusters and restarts one that is stalled.
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

from tenants.management.base import ScopedCommand
from tenants.queues import SLOW_CLUSTER
from tenants.watchdog import WatchedCluster, spawn

GUNICORN_CONFIG = settings.BASE_DIR / "config" / "gunicorn.py"


def web_command(addr: str) -> list[str]:
    """The gunicorn command line ``serve`` runs (the same as ``make serve-prod``)."""
    return [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "--bind", addr]


class Command(ScopedCommand):
    help = "Run the HTTP server and both task clusters together (Ctrl-C stops them)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default=os.environ.get("SIGAP_ADDR", "127.0.0.1:8000"))

    def handle(self, *args: Any, **options: Any) -> None:
        if isinstance(staticfiles_storage, ManifestFilesMixin):
            # Hashed static names need their manifest before the first admin page renders.
            call_command("collectstatic", "--noinput", verbosity=0)
        # Children get signals from this command only (each leads its own process group).
        web = spawn(web_command(options["addr"]), dict(os.environ))
        clusters = {"worker": WatchedCluster(None), "slow-worker": WatchedCluster(SLOW_CLUSTER)}
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
        interval = float(settings.Q_WATCHDOG_INTERVAL)
        next_check = time.monotonic() + interval
        while not stopping and web.poll() is None:
            if any(cluster.poll() is not None for cluster in clusters.values()):
                break
            time.sleep(0.3)
            if time.monotonic() >= next_check:
                for cluster in clusters.values():
                    cluster.check()
                next_check = time.monotonic() + interval
        codes = {"web": web.poll()} | {name: c.poll() for name, c in clusters.items()}
        if web.poll() is None:
            web.send_signal(signal.SIGTERM)
        for cluster in clusters.values():
            cluster.terminate()
        deadline = time.monotonic() + 30
        try:
            web.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait()
        for cluster in clusters.values():
            cluster.wait(deadline - time.monotonic())
        if not stopping:
            raise SystemExit(f"stopped because a child exited: {codes}")
        self.stdout.write("Sigap stopped.")
