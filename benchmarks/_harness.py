"""Shared start/stop helpers of the end-to-end benchmarks.

``setup_django()`` loads the project settings in this process (the embedded PostgreSQL starts,
or is joined, unless ``DATABASE_URL`` is set) with the same environment ``make run`` uses
(``DEBUG=1`` unless set). ``prepare_database()`` applies migrations and the cache table, as
``make run`` does. ``as_owner()`` points this process's own database work (seeding, counting,
cleaning up) at the tables' owner, whom no row-level-security policy binds; the server and the
workers it starts connect as the application role, as in production (``SIGAP_RLS=off``: both
as the owner). ``Services`` starts the production HTTP server (gunicorn with
``config/gunicorn.py``: gthread workers, a bounded database pool per worker) and the fast task
cluster (``qcluster``) as child processes, like ``manage.py serve``, waits until the server
answers, and stops both (SIGTERM, graceful) on exit, on Ctrl-C, SIGTERM and errors. ``env``
adds environment variables (``WEB_CONCURRENCY``, ``THROTTLE_RATE_USER``...) to the children.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]


def log(message: str) -> None:
    """Progress goes to stderr; stdout is kept for the result."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")  # as the Makefile exports it for `make run`
    import django

    django.setup()


def prepare_database() -> None:
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    call_command("createcachetable", verbosity=0)


def as_owner() -> None:
    """From now on this process's own queries run as the tables' owner (``tenants.rls``)."""
    from tenants.rls import use_role

    use_role("owner")


def sigterm_as_interrupt() -> None:
    """SIGTERM and SIGINT unwind like Ctrl-C, so ``finally`` blocks stop the children (SIGINT
    too when started in the background, where the shell may have set it to be ignored)."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child_setup() -> None:
    # Own process group: a terminal Ctrl-C reaches the benchmark only, which stops the children
    # in order (as ``manage.py serve`` does).
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Services:
    """``with Services(web=True, worker=True) as s: ... s.base_url``"""

    def __init__(
        self,
        *,
        web: bool = True,
        worker: bool = True,
        addr: str = "",
        env: dict[str, str] | None = None,
    ) -> None:
        self.want_web, self.want_worker = web, worker
        self.env = {**os.environ, **(env or {})}
        self.env.pop("Q_CLUSTER_NAME", None)
        self.addr = addr or f"127.0.0.1:{free_port()}"
        self.base_url = f"http://{self.addr}"
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.logdir = Path(tempfile.mkdtemp(prefix="sigap-bench-"))
        self._logs: list[IO[bytes]] = []

    def _start(self, name: str, command: list[str]) -> None:
        out = (self.logdir / f"{name}.log").open("wb")
        self._logs.append(out)
        self.children[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_child_setup,
        )

    def __enter__(self) -> Services:
        try:
            if self.want_web:
                config = str(ROOT / "config" / "gunicorn.py")
                self._start(
                    "web",
                    [sys.executable, "-m", "gunicorn", "-c", config, "--bind", self.addr],
                )
            if self.want_worker:
                self._start("worker", [sys.executable, "manage.py", "qcluster"])
            log(f"started {', '.join(self.children)} (logs in {self.logdir})")
            if self.want_web:
                self._wait_http(timeout=60)
            if self.want_worker:
                self._wait_cluster(timeout=60)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def check(self) -> None:
        """Raise if a child died."""
        for name, child in self.children.items():
            if child.poll() is not None:
                tail = (self.logdir / f"{name}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited with {child.returncode}:\n{tail}")

    def _wait_http(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        raise TimeoutError("the HTTP server did not answer /healthz")

    def _wait_cluster(self, timeout: float) -> None:
        """Until the cluster has reported a heartbeat (its workers are forked and polling)."""
        from django_q.status import Stat

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            pid = self.children["worker"].pid
            if any(s is not None and s.pid == pid and s.workers for s in Stat.get_all()):
                return
            time.sleep(0.2)
        raise TimeoutError("the task cluster did not report")

    def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for out in self._logs:
            out.close()
        self._logs.clear()
        if self.children:
            log("stopped " + ", ".join(self.children))
        self.children.clear()


def postgres_pid() -> int | None:
    """The embedded server's postmaster (None with ``DATABASE_URL``): for its CPU time."""
    from django.conf import settings

    if settings.DATABASE_URL:
        return None
    from config.embedded_db import data_dir

    try:
        return int((data_dir() / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants, each with the children
    it has already reaped (a task cluster's workers are its grandchildren: a worker the cluster
    recycles is reaped by its parent, not by ``pid``; counting only the descendants' own time
    lost it, and a run's difference could come out negative)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        total = sum(proc.cpu_times()[:4])
        children = proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return float("nan")
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += sum(child.cpu_times()[:4])
    return total


def drop_tenant(tenant_id: int) -> None:
    """Delete a benchmark tenant and its monitoring rows in bulk (faster than the ORM's
    cascade)."""
    from django.db import connection, transaction

    from tenants.models import Tenant

    with transaction.atomic(), connection.cursor() as cursor:
        for table in (
            "monitoring_alertevent",
            "monitoring_alert",
            "monitoring_detectorstate",
            "monitoring_hoaxband",
            "monitoring_hoaxclusterauthor",
            "monitoring_hoaxmember",
            "monitoring_hoaxcluster",
            "monitoring_engagementsnapshot",
            "monitoring_alertrule",
            "monitoring_ownedaccount",
            "monitoring_mention",
            "monitoring_metricbucket",
            "monitoring_ingestchunk",
            "monitoring_ingestbatch",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant_id])  # noqa: S608
        Tenant.objects.filter(pk=tenant_id).delete()


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (as PostgreSQL's ``percentile_cont``)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def load_note() -> dict[str, float]:
    """1-minute load average and core count: other work on the machine skews the figures."""
    return {"load_1m": round(os.getloadavg()[0], 2), "cores": os.cpu_count() or 0}
