"""The progress watchdog (tenants/watchdog.py).

- the rule on the database: old waiting work with no task ended in the threshold is stalled;
  a recent completion, fresh work, or an empty queue is not; the other cluster's work and
  completions do not count;
- the fault for real, with a plain ``qcluster`` of one worker: the idle worker is SIGKILLed, a
  task queued then never runs while the heartbeat stays fresh, and ``/readyz`` says
  ``workers_stalled``;
- the cure for real: ``manage.py worker`` with one fast worker; the idle worker is SIGKILLed
  (it dies holding django-q2's queue lock, so the cluster never runs another task:
  django-q2#23); a task queued then still completes, because the watchdog restarted the cluster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
from django.utils import timezone
from django_q.models import OrmQ, Task

from config import health
from tenants import watchdog
from tenants.queues import SLOW_CLUSTER, fast_cluster
from tests.test_ops import ROOT, child_env, start_cluster
from tests.test_serving import stop_tree, wait_for


def queued(cluster: str, *, lock: Any) -> OrmQ:
    return OrmQ.objects.create(key=cluster, payload="x", lock=lock)


def ended(cluster: str, *, ago: float, success: bool = True) -> Task:
    stopped = timezone.now() - timedelta(seconds=ago)
    return Task.objects.create(
        id=uuid.uuid4().hex,
        name=uuid.uuid4().hex,
        func="tests.tasks.always_fails",
        cluster=cluster,
        started=stopped - timedelta(seconds=1),
        stopped=stopped,
        success=success,
    )


def test_an_empty_queue_is_not_stalled(db: Any) -> None:
    assert watchdog.stalled() is None
    assert watchdog.stalled(SLOW_CLUSTER) is None


def test_old_waiting_work_with_no_task_ended_is_stalled(db: Any, settings: Any) -> None:
    settings.Q_STALL_SECONDS = 60
    queued(fast_cluster(), lock=timezone.now() - timedelta(seconds=61))
    ended(fast_cluster(), ago=300)  # long before the threshold
    reason = watchdog.stalled()
    assert reason and "sigap" in reason
    assert watchdog.stalled(SLOW_CLUSTER) is None  # the other queue is empty


def test_work_pulled_long_ago_and_never_acknowledged_is_stalled(db: Any, settings: Any) -> None:
    """What the wedged cluster leaves: its pusher locked the row (until pull + retry) and put the
    task in the in-memory queue no worker can read."""
    settings.Q_STALL_SECONDS = 60
    retry = int(settings.Q_CLUSTER["retry"])
    row = queued(fast_cluster(), lock=timezone.now() + timedelta(seconds=retry - 61))
    assert watchdog.stalled()
    assert watchdog.release_pulled() == 1
    row.refresh_from_db()
    assert row.lock is not None and row.lock <= timezone.now()  # available again at once


def test_a_recent_completion_or_fresh_work_is_not_stalled(db: Any, settings: Any) -> None:
    settings.Q_STALL_SECONDS = 60
    retry = int(settings.Q_CLUSTER["retry"])
    fresh = queued(fast_cluster(), lock=timezone.now() - timedelta(seconds=5))
    just_pulled = queued(fast_cluster(), lock=timezone.now() + timedelta(seconds=retry - 5))
    assert watchdog.stalled() is None  # work waits, but not for long
    fresh.delete()
    just_pulled.delete()
    queued(fast_cluster(), lock=timezone.now() - timedelta(seconds=600))
    ended(fast_cluster(), ago=10, success=False)  # a long queue under load: tasks still end
    assert watchdog.stalled() is None


def test_only_the_clusters_own_completions_count(db: Any, settings: Any) -> None:
    settings.Q_STALL_SECONDS = 60
    settings.Q_SLOW_STALL_SECONDS = 600
    queued(fast_cluster(), lock=timezone.now() - timedelta(seconds=120))
    ended(SLOW_CLUSTER, ago=1)
    assert watchdog.stalled()
    queued(SLOW_CLUSTER, lock=timezone.now() - timedelta(seconds=120))
    assert watchdog.stalled(SLOW_CLUSTER) is None  # its own threshold is longer


def test_task_results_are_kept_by_age_long_enough_for_both_clusters(db: Any, settings: Any) -> None:
    settings.Q_STALL_SECONDS = 60
    settings.Q_SLOW_STALL_SECONDS = 600
    assert watchdog.results_kept_seconds() == 1200
    old_success = ended(fast_cluster(), ago=1300)
    old_failure = ended(fast_cluster(), ago=1300, success=False)
    slow_completion = ended(SLOW_CLUSTER, ago=590)
    recent = [ended(fast_cluster(), ago=1) for _ in range(5)]
    assert watchdog.prune_task_results() == 1
    kept = set(Task.objects.values_list("id", flat=True))
    assert old_success.id not in kept
    assert {old_failure.id, slow_completion.id, *(task.id for task in recent)} <= kept
    # The slow cluster's completion still counts, however many fast tasks ended since.
    queued(SLOW_CLUSTER, lock=timezone.now() - timedelta(seconds=700))
    assert watchdog.stalled(SLOW_CLUSTER) is None


def cluster_workers(process: subprocess.Popen[bytes], *, under_watchdog: bool) -> list[int]:
    """The live worker pids of a ``qcluster`` (or of the one ``manage.py worker`` runs), from
    the cluster's own status report (as ``benchmarks/faults.py`` finds them)."""
    from django_q.status import Stat

    try:
        me = psutil.Process(process.pid)
        qclusters = me.children() if under_watchdog else [me]
        tree = {p.pid for q in qclusters for p in q.children(recursive=True)}
    except psutil.NoSuchProcess:  # a process of the tree is starting or ending
        return []
    return [
        pid
        for stat in Stat.get_all()
        if stat is not None and stat.pid in {q.pid for q in qclusters}
        for pid in stat.workers
        if pid in tree
    ]


def wedge(process: subprocess.Popen[bytes], *, under_watchdog: bool) -> str:
    """SIGKILLs the one worker of the cluster while it idles in ``task_queue.get()`` (so it dies
    holding the queue's read lock), then queues a task; answers the task id."""
    from django_q.tasks import async_task

    wait_for(
        lambda: cluster_workers(process, under_watchdog=under_watchdog),
        60,
        "the cluster to report its worker",
    )
    time.sleep(3)  # the worker is idle: blocked in task_queue.get(), holding its lock
    (worker,) = cluster_workers(process, under_watchdog=under_watchdog)
    os.kill(worker, signal.SIGKILL)
    return str(async_task("tests.tasks.slow_job", uuid.uuid4().hex, 0.0))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_wedged_cluster_processes_nothing_and_readyz_says_workers_stalled(
    client: Any, settings: Any
) -> None:
    """The fault itself, with no watchdog: the heartbeat stays fresh, nothing runs."""
    settings.Q_STALL_SECONDS = 3
    cluster = start_cluster(Q_WORKERS="1")
    try:
        task_id = wedge(cluster, under_watchdog=False)

        def readiness() -> Any:
            health.readiness.clear()
            return client.get("/readyz")

        wait_for(
            lambda: readiness().json()["checks"]["worker"].get("detail") == "workers_stalled",
            30,
            "/readyz to say workers_stalled",
        )
        response = readiness()
        assert response.status_code == 503
        assert response.json()["checks"]["worker"]["age_s"] < 30  # the heartbeat is fresh
        assert not Task.objects.filter(id=task_id).exists()  # the task never ran
    finally:
        stop_tree(cluster)  # SIGTERM would wait for the wedged worker forever
        health.readiness.clear()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_watchdog_restarts_a_cluster_wedged_by_a_killed_idle_worker(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    env = child_env(
        Q_WORKERS="1",
        Q_STALL_SECONDS="4",
        Q_WATCHDOG_GRACE="2",
        Q_LOG_LEVEL="INFO",
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--check-interval", "1"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        task_id = wedge(process, under_watchdog=True)
        wait_for(lambda: Task.objects.filter(id=task_id).exists(), 40, "the task to complete")
        assert Task.objects.get(id=task_id).success
        assert "no task ended in that time; restarting it" in log.read_text(errors="replace")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stop_tree(process)
    assert process.returncode == 0, log.read_text(errors="replace")[-3000:]


def test_restarts_without_progress_wait_longer_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cluster that is still stalled after a restart (slow to start on a busy machine) is
    checked again after twice the wait, up to MAX_BACKOFF thresholds; a healthy check resets
    the wait. The cluster here is a real child process that never ends a task (``sleep``)."""
    reason: list[str | None] = ["no task ended in that time"]
    monkeypatch.setattr(watchdog, "stalled", lambda name=None: reason[0])
    monkeypatch.setattr(watchdog, "release_pulled", lambda name=None: 0)
    monkeypatch.setattr(watchdog, "stall_seconds", lambda name=None: 10)
    # The leader of a group of its own, as ``watchdog.spawn`` starts it: a restart stops the
    # group at once (a child left in the suite's group would be waited for to its natural end).
    monkeypatch.setattr(
        watchdog,
        "spawn",
        lambda command, env: subprocess.Popen(["sleep", "60"], start_new_session=True),
    )
    watched = watchdog.WatchedCluster(grace=0)

    def wait_s() -> float:
        return watched._quiet_until - time.monotonic()

    try:
        assert 9 < wait_s() <= 10
        waits = []
        for _ in range(6):
            watched._quiet_until = 0.0  # the wait has passed
            assert watched.check()  # still stalled: restarted
            waits.append(round(wait_s() / 10))
        assert waits == [2, 4, 8, 16, 16, 16]
        assert watched.restarts == 6
        reason[0] = None
        watched._quiet_until = 0.0
        assert not watched.check()  # healthy: the wait is back to one threshold
        reason[0] = "stalled again"
        assert watched.check()
        assert 19 < wait_s() <= 20
    finally:
        watched.wait(0)
