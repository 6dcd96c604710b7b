"""Serve Sigap: the HTTP server and a django-q2 cluster, together, until Ctrl-C or SIGTERM.

Both run as child processes sharing this process's database (the embedded server stays up while
any of them holds it). Stopping this command stops both children cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand


def _child_setup() -> None:
    """Children get signals from this command only (not twice from the terminal), and take
    SIGINT as Ctrl-C even when this command was started in the background."""
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Command(BaseCommand):
    help = "Run the HTTP server and the task cluster together (Ctrl-C stops both)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default=os.environ.get("SIGAP_ADDR", "127.0.0.1:8000"))

    def handle(self, *args: Any, **options: Any) -> None:
        manage = [sys.executable, "manage.py"]
        children = {
            "web": subprocess.Popen(
                [*manage, "runserver", "--noreload", options["addr"]], preexec_fn=_child_setup
            ),
            "worker": subprocess.Popen([*manage, "qcluster"], preexec_fn=_child_setup),
        }
        self.stdout.write(
            f"Sigap on http://{options['addr']}/ (admin /admin/, API /api/docs/, "
            "GraphQL /graphql/); Ctrl-C stops it."
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
        for name, child in children.items():
            if child.poll() is None:
                child.send_signal(signal.SIGINT if name == "web" else signal.SIGTERM)
        deadline = time.monotonic() + 30
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        failed = {n: c.returncode for n, c in children.items() if c.returncode not in (0, -2, -15)}
        if failed and not stopping:
            raise SystemExit(f"stopped because a child exited: {failed}")
        self.stdout.write("Sigap stopped.")
