"""Run one django-q2 cluster under the progress watchdog (what the production units start).

``manage.py worker`` runs the fast cluster, ``manage.py worker --cluster slow`` the slow one:
``manage.py qcluster`` as a child in its own process group, checked every
``Q_WATCHDOG_INTERVAL`` seconds by ``tenants.watchdog`` (the check ``manage.py serve`` runs) and
restarted when stalled. SIGTERM or Ctrl-C stops the cluster gracefully (tasks in flight finish
first, up to ``--stop-timeout`` seconds, by default the cluster's task timeout) and the command
exits 0; if the cluster exits on its own, the command fails, so the process manager restarts it.
"""

from __future__ import annotations

import signal
import time
from typing import Any

from django.conf import settings

from tenants.management.base import ScopedCommand
from tenants.queues import SLOW_CLUSTER
from tenants.watchdog import WatchedCluster, cluster_settings


class Command(ScopedCommand):
    help = "Run a task cluster and restart it when it stalls (Ctrl-C stops it)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--cluster", choices=["fast", SLOW_CLUSTER], default="fast")
        parser.add_argument(
            "--check-interval",
            type=float,
            default=float(settings.Q_WATCHDOG_INTERVAL),
            help="seconds between progress checks (default Q_WATCHDOG_INTERVAL)",
        )
        parser.add_argument(
            "--stop-timeout",
            type=float,
            default=None,
            help="seconds a stopping cluster may take to finish its tasks before it is killed "
            "(default: the cluster's task timeout)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        cluster_name = None if options["cluster"] == "fast" else options["cluster"]
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        cluster = WatchedCluster(cluster_name)
        self.stdout.write(f"Cluster {cluster.name!r} started under the watchdog.")
        self.stdout.flush()
        next_check = time.monotonic() + options["check_interval"]
        while not stopping and cluster.poll() is None:
            time.sleep(0.3)
            if time.monotonic() >= next_check:
                cluster.check()
                next_check = time.monotonic() + options["check_interval"]
        code = cluster.poll()
        cluster.terminate()
        stop_timeout = options["stop_timeout"]
        if stop_timeout is None:
            stop_timeout = float(str(cluster_settings(cluster_name)["timeout"]))
        cluster.wait(stop_timeout)
        if not stopping:
            raise SystemExit(f"cluster {cluster.name!r} exited with status {code}")
        self.stdout.write(f"Cluster {cluster.name!r} stopped.")
