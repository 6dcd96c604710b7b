"""Progress watchdog for the django-q2 clusters: says when a cluster is stalled, and restarts it.

A known django-q2 fault (django-q2/django-q2#23, Koed00/django-q#394): an idle worker waits in
``task_queue.get()`` holding the in-memory queue's read lock; SIGKILLed there (OOM killer, an
operator), it dies holding the lock, and every worker the Sentinel starts in its place waits on
that lock forever. The cluster's heartbeat stays fresh, so only progress tells.

``stalled(cluster)`` is the rule, on the ORM broker's table and the task results (at most two
small queries, the second only when work waits): the cluster is stalled when a task of its queue
has waited for ``stall_seconds(cluster)`` (available and not pulled, or pulled and not
acknowledged for that long) **and** no task of that cluster ended (success or failure) in that
time. A long queue under load is not stalled (tasks keep ending), nor is a queue that just
received work. A cluster whose every worker runs one task for longer than the threshold looks
the same as a stalled one, so the threshold must exceed the cluster's longest normal task:
``Q_STALL_SECONDS`` for the fast cluster, ``Q_SLOW_STALL_SECONDS`` (default: the slow timeout
plus a minute) for the slow one.

``WatchedCluster`` runs ``manage.py qcluster`` as a child in its own process group and, from
``check()`` (called every ``Q_WATCHDOG_INTERVAL`` seconds by ``manage.py serve`` and
``manage.py worker``), restarts it when stalled: one warning, SIGTERM to the whole group,
SIGKILL after a grace, the tasks the stalled cluster had pulled put back at once (instead of
after ``Q_RETRY``), and a new cluster.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from tenants.queues import SLOW_CLUSTER, cluster_command_env, fast_cluster

logger = logging.getLogger("sigap.watchdog")


def cluster_settings(cluster_name: str | None = None) -> dict[str, object]:
    """The django-q2 settings of ``cluster_name`` (None: the fast cluster)."""
    name = cluster_name or fast_cluster()
    conf = dict(settings.Q_CLUSTER)
    conf.pop("ALT_CLUSTERS", None)
    if name != fast_cluster():
        alt_clusters = cast(dict[str, dict[str, object]], settings.Q_CLUSTER["ALT_CLUSTERS"])
        conf.update(alt_clusters[name])
    conf["name"] = name
    return conf


def stall_seconds(cluster_name: str | None = None) -> int:
    """How long work may wait with no task ending before ``cluster_name`` counts as stalled."""
    if (cluster_name or fast_cluster()) == SLOW_CLUSTER:
        return int(settings.Q_SLOW_STALL_SECONDS)
    return int(settings.Q_STALL_SECONDS)


def _waiting_too_long(threshold: int, retry: int) -> Q:
    """Broker rows that have waited ``threshold`` seconds: available since then (or never
    locked), or pulled by a cluster then and still unacknowledged (a pull locks the row until
    ``pull + retry``)."""
    now = timezone.now()
    waiting = Q(lock__isnull=True) | Q(lock__lte=now - timedelta(seconds=threshold))
    if retry > threshold:
        waiting |= Q(lock__gt=now, lock__lte=now + timedelta(seconds=retry - threshold))
    return waiting


def stalled(cluster_name: str | None = None) -> str | None:
    """Why ``cluster_name`` (None: the fast cluster) is stalled, or None when it is not."""
    from django_q.models import OrmQ, Task

    conf = cluster_settings(cluster_name)
    name = str(conf["name"])
    threshold = stall_seconds(name)
    retry = int(str(conf["retry"]))
    waiting = OrmQ.objects.filter(_waiting_too_long(threshold, retry), key=name)
    if not waiting.exists():
        return None
    since = timezone.now() - timedelta(seconds=threshold)
    if Task.objects.filter(cluster=name, stopped__gte=since).order_by().exists():
        return None
    return f"cluster {name!r}: a task has waited over {threshold} s and no task ended in that time"


def results_kept_seconds() -> int:
    """How long a successful task's result row is kept: twice the longest stall threshold, so
    ``stalled`` always finds the completions it looks back for, on either cluster."""
    return 2 * max(stall_seconds(fast_cluster()), stall_seconds(SLOW_CLUSTER))


def prune_task_results(now: datetime | None = None) -> int:
    """Delete the successful tasks' result rows older than ``results_kept_seconds``; answers
    how many. Failures stay (an operator reads them).

    django-q2's own pruning (``save_limit`` above 0) is off: it ran after every task, locking
    every kept success row (``SELECT ... FOR UPDATE`` of up to ``save_limit`` rows, loaded as
    model instances) to delete the oldest one, about 5 ms of the database's CPU per task with
    1,000 rows kept, and a count limit shared by both clusters let the fast cluster's tasks push
    the slow cluster's completions out before ``stalled`` had looked for them."""
    from django_q.models import Task

    cutoff = (now or timezone.now()) - timedelta(seconds=results_kept_seconds())
    return int(Task.objects.filter(success=True, stopped__lt=cutoff).delete()[0])


def release_pulled(cluster_name: str | None = None) -> int:
    """Puts back at once the tasks a stalled cluster pulled more than the threshold ago (they
    would otherwise stay locked until ``retry`` ends); answers how many. Call it only once
    the stalled cluster's processes are gone."""
    from django_q.models import OrmQ

    conf = cluster_settings(cluster_name)
    name = str(conf["name"])
    threshold, retry = stall_seconds(name), int(str(conf["retry"]))
    if retry <= threshold:
        return 0  # such rows are already available again
    now = timezone.now()
    return int(
        OrmQ.objects.filter(
            key=name, lock__gt=now, lock__lte=now + timedelta(seconds=retry - threshold)
        ).update(lock=now)
    )


def _own_group() -> None:
    """The child leads its own process group (so the whole cluster can be signalled at once)
    and takes SIGINT as Ctrl-C even when started in the background."""
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Starts ``command`` in the project directory as the leader of a new process group."""
    return subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, preexec_fn=_own_group)


def stop_group(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM to ``process``'s whole group; SIGKILL to what is left after ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    # The leader may be gone while its workers still run: the group gets SIGKILL either way.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


MAX_BACKOFF = 16  # the longest wait after restarts without progress, in stall thresholds


class WatchedCluster:
    """A ``manage.py qcluster`` child that ``check()`` restarts when its cluster is stalled."""

    def __init__(self, cluster_name: str | None = None, *, grace: float | None = None) -> None:
        self.cluster_name = cluster_name
        self.name = cluster_name or fast_cluster()
        self.grace = float(settings.Q_WATCHDOG_GRACE if grace is None else grace)
        self.restarts = 0
        # Each restart not followed by a healthy check doubles the wait before the next check
        # (up to MAX_BACKOFF times the threshold): a cluster that starts slowly on a busy
        # machine gets the time it needs instead of being restarted every few seconds.
        self._backoff = 1
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py"), "qcluster"]
        # Not checked again before the new cluster could have shown progress.
        self._quiet_until = time.monotonic() + stall_seconds(self.cluster_name) * self._backoff
        return spawn(manage, cluster_command_env(self.cluster_name))

    def poll(self) -> int | None:
        return self.process.poll()

    def check(self) -> bool:
        """Restarts the cluster if it is stalled; answers whether it did. A failed check (the
        database is down, say) restarts nothing."""
        if time.monotonic() < self._quiet_until or self.process.poll() is not None:
            return False
        try:
            reason = stalled(self.cluster_name)
        except Exception:
            logger.exception("watchdog: cannot check cluster %r", self.name)
            return False
        if not reason:
            self._backoff = 1
            return False
        logger.warning("watchdog: %s; restarting it (pid %s)", reason, self.process.pid)
        self.restart()
        return True

    def restart(self) -> None:
        stop_group(self.process, self.grace)
        try:
            release_pulled(self.cluster_name)
        except Exception:
            logger.exception("watchdog: cannot release the tasks of cluster %r", self.name)
        self.restarts += 1
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)
        self.process = self._start()

    def terminate(self) -> None:
        """Asks the cluster to stop (tasks in flight finish first)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        """Waits up to ``timeout`` seconds for a stop, then kills what is left of the group."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=max(0.1, timeout))
        stop_group(self.process, 0)
